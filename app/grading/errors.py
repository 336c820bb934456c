"""The one error of the sandbox layer."""


class SandboxUnavailable(RuntimeError):
    """Submitted code cannot be run safely here; the grader reports an error."""
