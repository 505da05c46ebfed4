"""Breast-ultrasound classifier desktop app. A research tool, not a medical device."""

__version__ = "0.1.0"
