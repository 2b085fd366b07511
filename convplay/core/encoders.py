"""Animated files from RGB frames: GIF and animated WebP with Pillow, MP4 with imageio-ffmpeg.

An encoder takes frames one at a time (``add(frame, repeat)``, then ``close()`` or
``abort()``), so the caller can render the next while the file is written:

- GIF: one palette for the whole export, made once from sample frames (``palette_from``)
  and applied to every frame without dithering.  A palette per frame would posterise a
  diverging colour map differently from frame to frame, and dithering would make the
  flat cells shimmer.  The frames are kept as palette images (one byte a pixel) until
  Pillow writes them all at ``close``.
- WebP: Pillow needs every frame at once too; they are kept as RGB.
- MP4: each frame goes straight to ffmpeg (libx264, yuv420p).  yuv420p needs an even width
  and height: an odd side is padded by one pixel of the background colour, never scaled
  (``macro_block_size=1``: imageio-ffmpeg would otherwise resize to multiples of 16).

A frame shown for several frame times (``repeat``) is written once with a longer duration
in a GIF or WebP (Pillow and libwebp merge identical consecutive frames anyway), and
``repeat`` times in an MP4, whose frame rate is constant.  The export adds each of its
frames once, each unlike the one before (a timeline along its bottom edge), so the file
holds every frame.

The file is written beside its destination under a temporary name and moved into place
by ``close``: a cancelled or failed export (``abort``) leaves no partial file and keeps
whatever file had the name before.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

FORMATS = {".gif": "GIF", ".webp": "WebP", ".mp4": "MP4"}
VIDEO_EXTRA = "MP4 needs the optional video package: pip install 'convplay[video]'"
DEFAULT_FPS = 10
MAX_FPS = 60
PALETTE_COLOURS = 256
EXACT_SHARE = 40  # per cent of the GIF palette given to the sample's most frequent colours, exactly
PALETTE_SAMPLE_PX = 1_500_000  # pixels of the sample frames the GIF palette is built from
MP4_QUALITY = 7  # imageio-ffmpeg's 1-10 scale: 7 is x264's crf 15, sharp enough for text
WEBP_METHOD = 4  # libwebp's effort, 0 (fast) to 6 (small)
BACKGROUND = (255, 255, 255)


class ExportError(ValueError):
    """Why an export cannot be made or written (the text is for the user)."""


def export_format(path: str | os.PathLike) -> str:
    """"GIF", "WebP" or "MP4" from ``path``'s suffix; ExportError for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        shown = f"'{suffix}'" if suffix else "no suffix"
        raise ExportError(f"{Path(path).name} has {shown}: the animation is written as .gif, .webp or .mp4")
    return FORMATS[suffix]


def video_problem() -> str:
    """"" when MP4 can be written here, else the reason (the extra to install)."""
    try:
        _imageio_ffmpeg()
    except ExportError as exc:
        return str(exc)
    return ""


def _imageio_ffmpeg():
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ExportError(VIDEO_EXTRA) from None
    return imageio_ffmpeg


def even_size(width: int, height: int) -> tuple[int, int]:
    """The frame size an MP4 gets: each side rounded up to even."""
    return width + width % 2, height + height % 2


def frame_ms(fps: float) -> float:
    return 1000.0 / fps


def palette_from(frames: list[np.ndarray], colours: int = PALETTE_COLOURS) -> Image.Image:
    """One palette ("P" image) for every frame of a GIF, from a sample of its frames.

    The most frequent colours go in exactly (the background, the cells' flat fills, the
    text), so flat areas keep their colour; median cut shares the remaining entries among
    the rest (anti-aliased edges, gradients).  The samples are thinned to about
    ``PALETTE_SAMPLE_PX`` pixels first (every n-th row), at a bounded cost.
    """
    if not frames:
        raise ValueError("a palette needs at least one frame")
    stacked = np.concatenate([_rgb(f) for f in frames], axis=0)
    step = max(1, int(np.ceil(stacked.shape[0] * stacked.shape[1] / PALETTE_SAMPLE_PX)))
    sample = np.ascontiguousarray(stacked[::step]).reshape(-1, 3)
    packed = _packed(sample)
    values, counts = np.unique(packed, return_counts=True)
    if len(values) <= colours:
        chosen = values
    else:
        exact = values[np.argsort(counts, kind="stable")[::-1][:colours * EXACT_SHARE // 100]]
        rest = sample[~np.isin(packed, exact)]
        cut = Image.fromarray(rest.reshape(1, -1, 3), "RGB").quantize(
            colors=colours - len(exact), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        used = len(cut.getcolors(colours) or ())
        shared = np.array(cut.getpalette()[: 3 * used], dtype=np.uint32).reshape(-1, 3)
        shared = (shared[:, 0] << 16) | (shared[:, 1] << 8) | shared[:, 2]
        chosen = np.concatenate([exact, shared[~np.isin(shared, exact)]])[:colours]
    rgb = np.stack([(chosen >> 16) & 255, (chosen >> 8) & 255, chosen & 255], axis=1).astype(np.uint8)
    palette = Image.new("P", (1, 1))
    # Padded with the first colour: unused entries that no pixel can be nearer to than it.
    padded = np.concatenate([rgb, np.repeat(rgb[:1], PALETTE_COLOURS - len(rgb), axis=0)])
    palette.putpalette(padded.reshape(-1).tolist())
    return palette


class NearestColour:
    """Each pixel's nearest colour of a palette, exactly, remembered across frames.

    Pillow's own mapping (``quantize(palette=...)``) looks colours up in a coarse cache and
    can give a near neighbour instead of the exact entry (white came back as 252, 252, 252):
    here every colour met is matched once against the whole palette (squared RGB
    distance) and kept in a table over all 2²⁴ colours, so the frames of an export, which
    share most of their colours, cost a table lookup per pixel.
    """

    UNKNOWN = 0xFFFF
    CHUNK = 4096  # new colours matched at a time (CHUNK × 256 distances)

    def __init__(self, palette: Image.Image):
        rgb = np.array(palette.getpalette()[: 3 * PALETTE_COLOURS], dtype=np.int32).reshape(-1, 3)
        self.rgb = rgb
        self.table = np.full(1 << 24, self.UNKNOWN, dtype=np.uint16)

    def indices(self, frame: np.ndarray) -> np.ndarray:
        """(H, W) uint8 palette indices of ``frame``."""
        packed = _packed(frame.reshape(-1, 3))
        found = self.table[packed]
        missing = found == self.UNKNOWN
        if missing.any():
            new = np.unique(packed[missing])
            for start in range(0, len(new), self.CHUNK):
                part = new[start: start + self.CHUNK]
                colours = np.stack([(part >> 16) & 255, (part >> 8) & 255, part & 255], axis=1).astype(np.int32)
                distance = ((colours[:, None, :] - self.rgb[None, :, :]) ** 2).sum(axis=2)
                self.table[part] = distance.argmin(axis=1)
            found = self.table[packed]
        return found.astype(np.uint8).reshape(frame.shape[:2])


def _packed(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 colours as N 24-bit integers."""
    return (rgb[:, 0].astype(np.uint32) << 16) | (rgb[:, 1].astype(np.uint32) << 8) | rgb[:, 2]


def _rgb(frame: np.ndarray) -> np.ndarray:
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"a frame is an (H, W, 3) uint8 array, not {frame.dtype} {frame.shape}")
    return frame


class Encoder:
    """Writes ``path`` from frames of ``size`` (width, height) at ``fps``.

    ``frames`` counts the frames the animation shows (repeats included); ``images`` the
    pictures written (a repeated frame once, except in an MP4).
    """

    format = ""

    def __init__(self, path: str | os.PathLike, size: tuple[int, int], fps: float):
        self.path = Path(path)
        self.size = (int(size[0]), int(size[1]))
        if min(self.size) < 1:
            raise ExportError(f"a frame needs at least 1×1 pixels, not {self.size[0]}×{self.size[1]}")
        if not 0 < fps <= MAX_FPS:
            raise ExportError(f"frames per second from 1 to {MAX_FPS}, not {fps:g}")
        self.fps = fps
        self.frames = 0
        self.images = 0
        self.finished = False  # the partial file is complete
        self.closed = False  # committed or aborted: nothing more happens
        self.partial = _claim_partial(self.path)

    def add(self, frame: np.ndarray, repeat: int = 1) -> None:
        """Append ``frame`` ((H, W, 3) uint8, of this encoder's size), shown for ``repeat`` frame times."""
        if self.finished or self.closed:
            raise ExportError("the export has already finished")
        frame = _rgb(frame)
        if (frame.shape[1], frame.shape[0]) != self.size:
            raise ValueError(f"a frame of {frame.shape[1]}×{frame.shape[0]} in an export of {self.size[0]}×{self.size[1]}")
        repeat = max(1, int(repeat))
        self._add(frame, repeat)
        self.frames += repeat

    def close(self) -> Path:
        """``finish`` and ``commit``: the whole file written and in place; returns its path."""
        self.finish()
        return self.commit()

    def finish(self) -> None:
        """Write what remains to the partial file (the slow part: any thread may run it).
        On an error the partial file is removed and ExportError says why."""
        if self.finished:
            return
        if self.closed:
            raise ExportError("the export was cancelled")
        self.finished = True
        if self.frames == 0:
            self._discard()
            raise ExportError("no frames to write")
        try:
            self._finish()
        except (OSError, ValueError, RuntimeError) as exc:
            self._discard()
            raise ExportError(f"could not write {self.path}: {_reason(exc)}") from exc

    def commit(self) -> Path:
        """Move the finished file to its name (replacing what was there)."""
        if not self.finished:
            self.finish()
        if not self.closed:
            self.closed = True
            try:
                os.replace(self.partial, self.path)
            except OSError as exc:
                self._discard()
                raise ExportError(f"could not write {self.path}: {_reason(exc)}") from exc
        return self.path

    def abort(self) -> None:
        """Stop and leave no file (the destination keeps what it held before)."""
        if self.closed:
            return
        self.closed = True
        self._discard()

    def _discard(self) -> None:
        try:
            self._stop()
        finally:
            try:
                self.partial.unlink()
            except FileNotFoundError:
                pass

    # -- per format ------------------------------------------------------------------------
    def _add(self, frame: np.ndarray, repeat: int) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        """Release what an unfinished export holds."""


class _PillowEncoder(Encoder):
    """Frames kept until ``close``, then one ``Image.save(save_all=True)``."""

    def __init__(self, path, size, fps):
        super().__init__(path, size, fps)
        self._images: list[Image.Image] = []
        self._durations: list[int] = []
        self._shown_ms = 0.0  # the time every frame so far is shown, for durations that add up

    TICK_MS = 1  # the format's unit of time
    MIN_MS = 1

    def _duration(self, repeat: int) -> int:
        """This image's milliseconds, in the format's ticks: rounded so that the total stays
        on the frame clock."""
        tick = self.TICK_MS
        start = round(self._shown_ms / tick) * tick
        self._shown_ms += repeat * frame_ms(self.fps)
        return max(self.MIN_MS, round(self._shown_ms / tick) * tick - start)

    def _keep(self, image: Image.Image, repeat: int) -> None:
        self._images.append(image)
        self._durations.append(self._duration(repeat))
        self.images += 1

    def _stop(self) -> None:
        self._images.clear()

    def _save(self, pillow_format: str, **options) -> None:
        first, *rest = self._images
        first.save(self.partial, format=pillow_format, save_all=True, append_images=rest,
                   duration=self._durations, loop=0, **options)


class GifEncoder(_PillowEncoder):
    """A GIF with one palette: from ``palette`` (a "P" image, ``palette_from``), else from
    the first frame added."""

    format = "GIF"
    # GIF counts hundredths of a second, and browsers play a delay under 2 of them as 10:
    # faster than 50 frames per second, a GIF would play slower, not faster.
    TICK_MS = 10
    MIN_MS = 20

    def __init__(self, path, size, fps, palette: Image.Image | None = None):
        super().__init__(path, size, fps)
        self.palette = palette
        self._mapper: NearestColour | None = None

    def _add(self, frame, repeat):
        if self.palette is None:
            self.palette = palette_from([frame])
        if self._mapper is None:
            self._mapper = NearestColour(self.palette)
        image = Image.frombytes("P", self.size, self._mapper.indices(frame).tobytes())
        image.putpalette(self.palette.getpalette())
        self._keep(image, repeat)

    def _finish(self):
        # The palette given to the writer is what makes it write one global colour table (it
        # writes a local one for every delta frame otherwise) and keeps it whole.  optimize
        # lets it draw the pixels a frame leaves unchanged as a transparent index (a padding
        # entry no pixel uses): the tutorial's nine frames take 140 KB instead of 325 KB.
        self._save("GIF", palette=self.palette.getpalette(), optimize=True, disposal=1)


class WebpEncoder(_PillowEncoder):
    """Animated WebP; lossless by default (the frames are flat colours and text), else
    lossy at ``quality`` (0-100)."""

    format = "WebP"

    def __init__(self, path, size, fps, lossless: bool = True, quality: int = 90):
        super().__init__(path, size, fps)
        self.lossless, self.quality = lossless, quality

    def _add(self, frame, repeat):
        self._keep(Image.fromarray(frame, "RGB"), repeat)

    def _finish(self):
        self._save("WEBP", lossless=self.lossless, quality=self.quality, method=WEBP_METHOD)


class Mp4Encoder(Encoder):
    """H.264 in an MP4 through imageio-ffmpeg's ffmpeg; ``quality`` 1-10 (imageio-ffmpeg's
    scale, 10 the best)."""

    format = "MP4"

    def __init__(self, path, size, fps, quality: float = MP4_QUALITY, background=BACKGROUND):
        ffmpeg = _imageio_ffmpeg()  # before the partial file: a missing extra leaves nothing
        super().__init__(path, size, fps)
        if not 1 <= quality <= 10:
            self._discard_quietly()
            raise ExportError(f"MP4 quality from 1 to 10, not {quality:g}")
        self.video_size = even_size(*self.size)
        self.background = np.asarray(background, dtype=np.uint8)
        self._writer = ffmpeg.write_frames(
            str(self.partial), self.video_size, fps=fps, codec="libx264", pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p", quality=float(quality), macro_block_size=1, ffmpeg_log_level="error",
            output_params=["-f", "mp4"],  # the partial file's suffix names no format
        )
        try:
            self._writer.send(None)  # starts ffmpeg
        except (OSError, RuntimeError) as exc:
            self._discard_quietly()
            raise ExportError(f"could not start ffmpeg: {_reason(exc)}") from exc

    def _discard_quietly(self) -> None:
        self.closed = True
        try:
            self.partial.unlink()
        except FileNotFoundError:
            pass

    def _padded(self, frame: np.ndarray) -> np.ndarray:
        width, height = self.video_size
        if (frame.shape[1], frame.shape[0]) == (width, height):
            return np.ascontiguousarray(frame)
        out = np.empty((height, width, 3), dtype=np.uint8)
        out[:] = self.background
        out[: frame.shape[0], : frame.shape[1]] = frame
        return out

    def _add(self, frame, repeat):
        data = self._padded(frame).tobytes()
        try:
            for _ in range(repeat):
                self._writer.send(data)
        except (OSError, RuntimeError) as exc:  # ffmpeg died: its pipe is closed
            raise ExportError(f"ffmpeg stopped writing {self.path}: {_reason(exc)}") from exc
        self.images += repeat

    def _finish(self):
        self._writer.close()  # flushes and waits for ffmpeg

    def _stop(self):
        writer, self._writer = getattr(self, "_writer", None), None
        if writer is not None:
            try:
                writer.close()
            except (OSError, RuntimeError):
                pass


def open_encoder(path: str | os.PathLike, size: tuple[int, int], fps: float, *, palette: Image.Image | None = None,
                 quality: float | None = None, background=BACKGROUND) -> Encoder:
    """The encoder for ``path``'s suffix (ExportError for an unknown one, a missing extra,
    an unwritable place)."""
    kind = export_format(path)
    if kind == "GIF":
        return GifEncoder(path, size, fps, palette=palette)
    if kind == "WebP":
        return WebpEncoder(path, size, fps) if quality is None else WebpEncoder(path, size, fps, lossless=False,
                                                                                quality=int(quality))
    return Mp4Encoder(path, size, fps, quality=MP4_QUALITY if quality is None else quality, background=background)


def _claim_partial(path: Path) -> Path:
    """Create the temporary file the export is written to, beside ``path``; ExportError
    when that place cannot be written."""
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: the folder {folder} does not exist")
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    partial = folder / f".{path.name}.{os.getpid()}.part"
    try:
        with open(partial, "wb"):
            pass
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    return partial


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if exc.strerror[:1].isupper() and exc.strerror[1:2].islower() else exc.strerror
    return str(exc).strip() or type(exc).__name__
