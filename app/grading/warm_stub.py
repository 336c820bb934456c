"""The waiting interpreter of a pre-warmed sandbox (warm.py): executed *inside* bwrap as
``python3 -u -B -s -c <this source>``, as the run's uid, under its limits and its system
call filter, before anyone knows which program it will run.

It imports what socket programs import, says it is ready (one byte on descriptor 3, a
socket) and waits there. The grader sends the run, ``marshal``-ed ``(files, argv, stdin)``,
and shuts its side. The stub writes the files into the working folder, answers one byte
(so the grader knows it took the run), puts /dev/null on stdin unless the check feeds it,
closes every descriptor but 0, 1 and 2, and runs ``argv[0]`` as ``__main__`` as
``python3 -u -B -s argv[0]`` would: same ``sys.argv`` and ``sys.orig_argv``,
``sys.path[0]``, ``__file__``, tracebacks without a frame of its own, exit status. What
differs: ``/proc/self/cmdline`` shows ``-c``, the modules below are already in
``sys.modules``, and the CPU time of its start counts against ``RLIMIT_CPU``. If the socket
closes with nothing on it, the spare was not needed: it exits quietly.

Runs with nothing of the app importable; keep it standard library only.
"""

import marshal
import os
import sys

# What socket programs import first, loaded before the program starts (so programs in every
# style start alike): only modules that start no thread and open nothing on import.
# Not asyncio: the interpreter would take 6 ms longer to exit, for every program.
PRELOADED = ("socket", "selectors", "socketserver", "struct", "threading")
for _name in PRELOADED:
    __import__(_name)

CONTROL = 3
READY, TAKEN = b"R", b"!"


def _receive() -> tuple[list[tuple[str, bytes]], list[str], bool] | None:
    os.write(CONTROL, READY)
    chunks = []
    while chunk := os.read(CONTROL, 1 << 16):
        chunks.append(chunk)
    if not chunks:
        return None
    files, argv, stdin = marshal.loads(b"".join(chunks))
    if not stdin:  # as in a cold start: /dev/null, not a pipe that is closed
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    for name, content in files:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
        os.close(fd)
    os.write(CONTROL, TAKEN)
    os.closerange(CONTROL, os.sysconf("SC_OPEN_MAX"))
    return files, argv, stdin


def _main_module(script: str) -> object:
    from importlib.machinery import SourceFileLoader

    module = type(sys)("__main__")
    module.__file__ = script
    module.__cached__ = None
    module.__loader__ = SourceFileLoader("__main__", script)
    module.__builtins__ = __builtins__
    return module


def _run() -> None:
    received = _receive()
    if received is None:
        os._exit(0)
    _, argv, _ = received
    script = os.path.abspath(argv[0])
    sys.argv[:] = argv
    sys.orig_argv[sys.orig_argv.index("-c") :] = argv  # /proc/self/cmdline still shows -c
    sys.path[0] = os.path.dirname(script)
    module = _main_module(script)
    sys.modules["__main__"] = module
    with open(script, "rb") as source:
        code = source.read()
    failed = None
    try:
        exec(compile(code, script, "exec", dont_inherit=True), module.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:
        failed = exc
    if failed is not None:  # reported outside the handler: nothing to chain it to
        failed.__traceback__ = failed.__traceback__.tb_next  # without this frame
        _report(failed)
        # An uncaught KeyboardInterrupt ends the interpreter by SIGINT: 130 through bwrap.
        raise SystemExit(130 if isinstance(failed, KeyboardInterrupt) else 1)


def _report(exc: BaseException) -> None:
    """What the interpreter does with an uncaught exception (PyErr_Print)."""
    hook = getattr(sys, "excepthook", None)
    if hook is None:
        print("sys.excepthook is missing", file=sys.stderr)
        sys.__excepthook__(type(exc), exc, exc.__traceback__)
        return
    try:
        hook(type(exc), exc, exc.__traceback__)
    except BaseException as failure:
        print("Error in sys.excepthook:", file=sys.stderr)
        failure.__traceback__ = failure.__traceback__.tb_next
        sys.__excepthook__(type(failure), failure, failure.__traceback__)
        print("\nOriginal exception was:", file=sys.stderr)
        sys.__excepthook__(type(exc), exc, exc.__traceback__)


_run()
