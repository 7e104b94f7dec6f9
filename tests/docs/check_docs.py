"""The repository explains itself: README.md and docs/*.md link only inside the repository, and every file or
folder they name exists. usage: python3 tests/docs/check_docs.py REPO_ROOT"""
import os
import re
import sys

# Files of the team's own notes beside the repository, which a user never has.
OUTSIDE_NAMES = ("SEED.md", "DESIGN.md", "QUANT.md", "DEVICE.md", "STYLE.md", "DEVELOPERS.md")
TOP_DIRS = ("src/", "include/", "python/", "tests/", "bench/", "docs/", "examples/", "models/", "scripts/",
            "fuzz/", "cmake/")


def problems_in(root, rel):
    text = open(os.path.join(root, rel), encoding="utf-8").read()
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for name in OUTSIDE_NAMES:
            if name in line:
                found.append(f"{rel}:{lineno}: names {name}, which is not in the repository")
        if re.search(r"(^|[\s(`'\"])\.\./", line) or re.search(r"(^|[\s(`'\"])shared/", line):
            found.append(f"{rel}:{lineno}: points outside the repository: {line.strip()[:100]}")
        targets = re.findall(r"\]\(([^)#\s]+)", line)                  # markdown links
        targets += [t for t in re.findall(r"`([^`\s]+)`", line) if t.startswith(TOP_DIRS)]  # `path` mentions
        for target in targets:
            if re.match(r"[a-z]+://", target):
                continue
            path = target.rstrip(".,:;")
            base = root if path.startswith(TOP_DIRS) else os.path.dirname(os.path.join(root, rel))
            if any(c in path for c in "*<>{}$") or path.endswith(("/", ".so")) and not os.path.isdir(os.path.join(base, path)):
                continue                                                 # patterns and outputs, not files
            if not os.path.exists(os.path.join(base, path)):
                found.append(f"{rel}:{lineno}: names {path}, which does not exist")
    return found


def main():
    root = sys.argv[1]
    files = ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(os.path.join(root, "docs"))
                                   if f.endswith(".md"))
    found = [p for rel in files for p in problems_in(root, rel)]
    for p in found:
        print(p)
    print(f"check_docs: {len(files)} files, {len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
