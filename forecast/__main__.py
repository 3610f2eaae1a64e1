"""``python -m forecast`` runs the command line (same as the ``forecast`` console script)."""

from forecast.cli import main

if __name__ == "__main__":
    main()
