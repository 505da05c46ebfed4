"""Tests of the training half (data, split, report, calibration, model, end to end)."""
