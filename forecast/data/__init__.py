"""Data in: sources (bundled, files, yfinance), validation, transforms and windowing."""
