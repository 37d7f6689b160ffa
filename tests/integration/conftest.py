"""What every integration test's pytest process shares: nothing it started outlives it, and a
failing test's report shows what its servers wrote last.

ctest reads a test's output through a pipe and waits until the pipe closes. A process started
under a test (a browser's helper, a stand-in, a server) that outlives pytest keeps the pipe open,
and ctest then waits for it until its timeout although every test passed. pytest becomes the
subreaper of everything started under it, so that a process that left its parent (a helper that
daemonizes) is still its descendant; at the end, the ones still running are named and stopped.
"""
import ctypes
import os
import signal
import sys

import pytest

PR_SET_CHILD_SUBREAPER = 36


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report ends with what each running server wrote last: with the access
    log on, where a request that got no answer stopped."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        server_module = sys.modules.get("procedo_server")
        for server in list(server_module.Server.running) if server_module else []:
            report.sections.append((f"serve.log on port {server.port}, last lines",
                                    server.log_tail(150)))


def pytest_configure(config):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print(f"conftest: prctl(PR_SET_CHILD_SUBREAPER) failed: {os.strerror(ctypes.get_errno())}",
              file=sys.stderr)


def _parents():
    """Every live process's parent, read from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        # The command name is in parentheses and may hold spaces; the fields after it are fixed.
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
    return parents


def _descendants(root):
    parents = _parents()
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        found += children
        frontier += children
    return found


def _command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:200]
    except OSError:
        return "?"


def pytest_unconfigure(config):
    for pid in _descendants(os.getpid()):
        print(f"conftest: still running after the tests, stopped: {pid} {_command_line(pid)}",
              file=sys.stderr)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    while True:  # reap what was stopped, and any orphan that ended on its own
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
