import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_addoption(parser):
    parser.addoption(
        "--random-actions", type=int, default=0, metavar="N",
        help="tests/qt/test_random_actions.py: N random actions per seed, over more seeds",
    )
    parser.addoption(
        "--random-seeds", default="", metavar="S,S,...",
        help="tests/qt/test_random_actions.py: run these seeds instead (e.g. ones it has never run)",
    )
