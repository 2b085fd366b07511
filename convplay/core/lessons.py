"""The built-in lessons: resources/lessons/<id>.json, listed in teaching order.

Listing reads only each file's title and number of steps (``--list-lessons`` and the Lesson
menu stay quick); ``load_lesson`` reads and checks the whole document as any session file
is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from convplay.core.resources import resource_path

LESSONS_FOLDER = "lessons"
# The order a course would take them in; lessons not named here follow, by id.
TEACHING_ORDER = ("arithmetic", "tutorials", "edges", "matrix")


class LessonNotFound(KeyError):
    """No built-in lesson has this id; the text names the ones there are."""

    def __str__(self) -> str:  # KeyError's own str() would put the sentence in quotes
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class LessonInfo:
    id: str
    title: str
    n_steps: int
    path: Path
    description: str = ""  # a line for a tooltip


def _lesson_files() -> dict[str, Path]:
    folder = resource_path(LESSONS_FOLDER)
    if not folder.is_dir():
        return {}
    return {path.stem: path for path in folder.glob("*.json") if path.is_file()}


def _order(lesson_id: str) -> tuple[int, str]:
    rank = TEACHING_ORDER.index(lesson_id) if lesson_id in TEACHING_ORDER else len(TEACHING_ORDER)
    return (rank, lesson_id)


def lesson_ids() -> list[str]:
    return sorted(_lesson_files(), key=_order)


def lesson_path(lesson_id: str) -> Path:
    """The lesson's file; LessonNotFound for an id there is no lesson for."""
    files = _lesson_files()
    if lesson_id not in files:
        known = ", ".join(sorted(files, key=_order)) or "none"
        raise LessonNotFound(f"there is no built-in lesson {lesson_id!r}; the lessons are: {known}")
    return files[lesson_id]


def builtin_lessons() -> list[LessonInfo]:
    """The lessons in teaching order.  A file that is not a readable lesson is left out of the
    list (opening it with ``load_lesson`` says why)."""
    infos = []
    files = _lesson_files()
    for lesson_id in sorted(files, key=_order):
        path = files[lesson_id]
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            title, steps = document.get("title"), document.get("steps")
            description = document.get("description", "")
        except (OSError, ValueError, AttributeError):
            continue
        if not isinstance(title, str) or not isinstance(steps, list) or not steps:
            continue
        infos.append(LessonInfo(lesson_id, title, len(steps), path,
                                description if isinstance(description, str) else ""))
    return infos


def load_lesson(lesson_id: str):
    """The lesson as a SessionDocument (convplay.core.session_file), read and checked as a
    session file is.  LessonNotFound for an unknown id; SessionFileError for a damaged file."""
    from convplay.core.session_file import read_document

    document, _warnings = read_document(lesson_path(lesson_id))  # none in a shipped lesson: tested
    return document


def list_lines() -> list[str]:
    """``--list-lessons``: "id<TAB>title<TAB>N steps", one a line."""
    return [f"{info.id}\t{info.title}\t{info.n_steps} step{'s' if info.n_steps != 1 else ''}"
            for info in builtin_lessons()]
