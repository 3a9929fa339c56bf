"""The `finetok` command (and `python -m finetok`): replaces this process with the bundled
binary, so arguments, standard streams, signals and the exit code are the binary's own."""
import os
import sys


def main():
    from ._cli import executable
    path = executable()
    os.execv(path, [path] + sys.argv[1:])


if __name__ == "__main__":
    main()
