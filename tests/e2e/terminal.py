"""Run a program with stdout and stderr on a pseudo-terminal, as a user at a terminal sees it."""
import os
import pty
import subprocess


def run_on_tty(args, timeout=600):
    """(exit code, everything written to the terminal, with '\\r' and escape sequences kept)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([str(a) for a in args], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the program closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = p.wait(timeout=timeout)
    return code, b"".join(chunks).decode("utf-8", "replace")


def line_of(text, needle):
    """The terminal line holding needle, from its start (after the last newline before it) to needle's end."""
    i = text.index(needle)
    return text[text.rfind("\n", 0, i) + 1:i + len(needle)]
