"""Fails when a C++ or CUDA source line is longer than 120 columns (the limit .clang-format sets), naming each.

usage: python3 tests/docs/check_line_length.py REPOSITORY_ROOT
"""
import os
import sys

LIMIT = 120
FOLDERS = ("src", "tests", "bench", "fuzz", "examples", "python", "include")
SUFFIXES = (".cpp", ".h", ".cu", ".cuh", ".hpp", ".cc")


def main():
    root = sys.argv[1]
    long_lines = []
    for folder in FOLDERS:
        for directory, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                if not name.endswith(SUFFIXES):
                    continue
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        width = len(line.rstrip("\n"))
                        if width > LIMIT:
                            long_lines.append("%s:%d: %d columns" % (os.path.relpath(path, root), number, width))
    for line in long_lines:
        print(line)
    if long_lines:
        print("%d lines over %d columns; shorten them (clang-format --lines=N:N FILE reflows one line)"
              % (len(long_lines), LIMIT))
        return 1
    print("every C++ and CUDA line is within %d columns" % LIMIT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
