"""``python -m generator``: run the program ``beslut``, as the console script does."""

from .beslut import main

if __name__ == "__main__":
    main()
