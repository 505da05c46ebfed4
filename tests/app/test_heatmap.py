"""CAM -> heatmap -> overlay."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.core import heatmap


def test_heatmap_is_normalised_upsampled_and_peaks_where_the_cam_does() -> None:
    cam = np.zeros((4, 4, 3), dtype=np.float32)
    cam[1, 2, 1] = 5.0  # class 1 hot spot in row 1, column 2
    cam[3, 0, 0] = 2.0
    heat = heatmap.heatmap(cam, 1, (40, 60))
    assert heat.shape == (40, 60)
    assert heat.min() >= 0.0 and heat.max() <= 1.0 and heat.max() > 0.9
    peak_row, peak_col = np.unravel_index(np.argmax(heat), heat.shape)
    assert 10 <= peak_row < 20 and 30 <= peak_col < 45  # the cell (1, 2) of a 4x4 grid over 40x60
    other = heatmap.heatmap(cam, 0, (40, 60))
    assert np.unravel_index(np.argmax(other), other.shape)[0] >= 30  # class 0 is hot in the last row


def test_constant_map_is_all_zero_and_bad_class_index_fails() -> None:
    assert not heatmap.normalise(np.full((3, 3), 7.0)).any()
    with pytest.raises(IndexError):
        heatmap.class_map(np.zeros((2, 2, 3)), 3)


def test_colormap_runs_from_blue_to_red() -> None:
    colours = heatmap.colormap(np.array([[0.15, 0.5, 0.9]]))
    low, middle, high = colours[0].astype(int)
    assert colours.dtype == np.uint8 and colours.shape == (1, 3, 3)
    assert low[2] > max(low[0], low[1])  # blue for weak evidence
    assert high[0] > max(high[1], high[2])  # red for strong evidence
    assert middle[1] > 150  # green-ish in the middle


def test_overlay_respects_opacity() -> None:
    image = np.full((10, 12, 3), 100, dtype=np.uint8)
    heat = np.zeros((10, 12), dtype=np.float32)
    heat[:5] = 1.0
    np.testing.assert_array_equal(heatmap.overlay(image, heat, 0.0), image)
    full = heatmap.overlay(image, heat, 1.0)
    np.testing.assert_array_equal(full[5:], image[5:])  # no activation: the image shows through
    np.testing.assert_array_equal(full[:5], heatmap.colormap(heat[:5]))  # full activation at full opacity
    half = heatmap.overlay(image, heat, 0.5).astype(int)
    expected = np.rint(0.5 * 100 + 0.5 * heatmap.colormap(heat[:5]).astype(float)).astype(int)
    assert np.abs(half[:5] - expected).max() <= 1
    with pytest.raises(ValueError, match="does not match"):
        heatmap.overlay(image, np.zeros((3, 3)), 0.5)


def test_lesion_outline_is_the_border_of_the_region() -> None:
    mask = np.zeros((8, 8), dtype=np.float32)
    mask[2:6, 2:6] = 1.0
    outline = heatmap.lesion_outline(mask, (80, 80))
    assert outline.dtype == bool and outline.shape == (80, 80)
    assert not outline[40, 40]  # inside the lesion
    assert not outline[5, 5] and not outline[75, 75]  # well outside
    rows, cols = np.nonzero(outline)
    assert 15 <= rows.min() <= 25 and 55 <= rows.max() <= 65  # the ring around the upsampled square
    assert 15 <= cols.min() <= 25 and 55 <= cols.max() <= 65
    assert not heatmap.lesion_outline(np.zeros((8, 8)), (40, 40)).any()
    painted = heatmap.draw_outline(np.zeros((80, 80, 3), np.uint8), outline, (0, 255, 255))
    assert (painted[outline] == (0, 255, 255)).all() and not painted[~outline].any()
