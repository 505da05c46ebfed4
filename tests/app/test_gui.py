"""The main window, driven offscreen through its API, simulated drops and its widgets."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_app import cli
from desktop_app.core import batch
from desktop_app.core.imageio import load_image
from desktop_app.core.inference import ModelSession
from desktop_app.core.model_card import file_sha256
from desktop_app.ui.main_window import MainWindow, paths_from_mime
from desktop_app.ui.settings import AppSettings
from tests.app.conftest import ARTIFACTS, outlier_image, run_batch, write_images


def source_rows(window: MainWindow) -> list:
    return window.controller.rows()


def table_text(window: MainWindow) -> list[list[str]]:
    model = window.controller.results
    return [
        [model.data(model.index(r, c)) for c in range(model.columnCount())] for r in range(model.rowCount())
    ]


def test_open_through_api_shows_result_and_chart_equals_core(
    qtbot, window, image_folder: Path, tiny_model: Path
):
    image = image_folder / "case_001.png"
    run_batch(qtbot, window, [image])
    expected = ModelSession.open(tiny_model).classify([load_image(image)])[0]
    assert window.current_row() is not None and window.current_row().path == image
    assert window.chart.labels() == expected.labels
    np.testing.assert_allclose(window.chart.probabilities(), expected.probabilities, rtol=1e-12)
    assert window.chart.highlighted_label() == expected.predicted_label
    assert window.predicted_label.text() == expected.predicted_label
    assert f"{100 * expected.confidence:.1f} %" in window.confidence_label.text()
    assert window.image_view.pixmap().size().width() == load_image(image).width
    assert not window.ood_banner.isVisible() and not window.error_banner.isVisible()
    assert not window.progress_bar.isVisible()  # a single image needs no progress bar


def test_gui_and_cli_give_the_same_numbers(qtbot, window, image_folder: Path, tiny_model: Path):
    image = image_folder / "case_002.png"
    run_batch(qtbot, window, [image])
    out = io.StringIO()
    assert cli.main([str(image), "--model", str(tiny_model), "--json"], out=out) == 0
    cli_row = json.loads(out.getvalue())["results"][0]
    labels = window.chart.labels()
    np.testing.assert_allclose(
        window.chart.probabilities(), [cli_row[f"p_{label}"] for label in labels], rtol=1e-12
    )
    assert window.predicted_label.text() == cli_row["predicted"]


def drop(window: MainWindow, paths: list[Path]) -> tuple[bool, bool]:
    """Send a drag-enter and a drop carrying ``paths`` as file URLs; returns (enter accepted, drop accepted)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(
        QPointF(200, 200),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    dropped = QDropEvent(
        QPointF(200, 200),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, dropped)
    return enter.isAccepted(), dropped.isAccepted()


def test_drop_of_files_and_a_folder_classifies_them(qtbot, window, tmp_path: Path):
    folder_images = write_images(tmp_path / "folder", 3)
    single = write_images(tmp_path / "single", 1, start_seed=10)[0]
    with qtbot.waitSignal(window.controller.batch_finished, timeout=20_000):
        assert drop(window, [single, tmp_path / "folder"]) == (True, True)
    assert sorted(row.path for row in source_rows(window)) == sorted([single, *folder_images])
    assert all(row.ok for row in source_rows(window))
    assert window.progress_bar.isHidden() and window.export_button.isEnabled()


def test_drop_without_local_files_is_refused(window):
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.org/image.png")])
    assert paths_from_mime(mime) == []
    mime_text = QMimeData()
    mime_text.setText("hello")
    enter = QDragEnterEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_table_rows_error_rows_sorting_and_selection(qtbot, window, image_folder: Path, tiny_model: Path):
    run_batch(qtbot, window, [image_folder])
    labels = ModelSession.open(tiny_model).labels
    model = window.controller.results
    assert model.columns() == ["File", "Predicted", *labels, "OOD score", "Status"]
    rows = table_text(window)
    assert [r[0] for r in rows] == [
        "case_000.png",
        "case_001.png",
        "case_002.png",
        "corrupt.png",
        "notes.jpg",
    ]
    for text, row in zip(rows, source_rows(window)):
        if row.ok:
            assert text[1] == row.prediction.predicted_label
            assert text[2:5] == [f"{100 * p:.1f} %" for p in row.prediction.probabilities]
            assert text[-1] == "OK"
        else:
            assert text[1] == "—" and text[-1] == f"Error: {row.error}"
    assert (
        "3 images" not in window.summary_label.text()
        and "5 images · 2 could not be read" == window.summary_label.text()
    )

    # Sorting by a probability column orders rows numerically, errors (no value) first.
    benign_column = 2
    window.table.sortByColumn(benign_column, Qt.SortOrder.DescendingOrder)
    shown = [window.table.source_row(r) for r in range(model.rowCount())]
    values = [source_rows(window)[i].prediction.probabilities[0] for i in shown if source_rows(window)[i].ok]
    assert values == sorted(values, reverse=True)
    assert [source_rows(window)[i].ok for i in shown] == [True, True, True, False, False]

    # Selecting an error row shows its message; selecting a good row shows that image.
    window.table.select_source_row(3)
    assert window.current_row().path.name == "corrupt.png"
    assert window.error_banner.isVisibleTo(window) and "corrupt.png" in window.error_banner.text()
    assert window.chart.probabilities() == () and window.image_view.pixmap() is None
    window.table.select_source_row(2)
    assert window.current_row().path.name == "case_002.png"
    assert not window.error_banner.isVisibleTo(window)
    np.testing.assert_allclose(window.chart.probabilities(), source_rows(window)[2].prediction.probabilities)


def test_export_csv_matches_the_table(qtbot, window, image_folder: Path, tmp_path: Path):
    run_batch(qtbot, window, [image_folder])
    out = tmp_path / "export.csv"
    assert window.export_csv(out) == 5
    records = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    for record, row in zip(records, source_rows(window)):
        assert record["file"] == str(row.path) and record["status"] == row.status
        if row.ok:
            assert record["predicted"] == row.prediction.predicted_label
            assert abs(float(record["p_benign"]) - row.prediction.probabilities[0]) < 1e-6
        else:
            assert record["message"] == row.error


def test_cancel_stops_a_batch(qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    original_decode = batch._decode

    def slow_decode(path, size):
        time.sleep(0.03)
        return original_decode(path, size)

    monkeypatch.setattr(batch, "_decode", slow_decode)
    files = write_images(tmp_path / "many", 80, size=(24, 24))
    with qtbot.waitSignal(window.controller.row_added, timeout=20_000):
        assert window.open_paths([tmp_path / "many"]) == 80
    assert window.progress_bar.isVisibleTo(window) and window.cancel_button.isEnabled()
    with qtbot.waitSignal(window.controller.batch_finished, timeout=20_000) as finished:
        qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args == [True]
    done = len(source_rows(window))
    assert 0 < done < len(files)
    assert "cancelled" in window.summary_label.text()
    assert window.cancel_button.isHidden() and window.progress_bar.isHidden()


def test_heatmap_toggle_class_choice_and_opacity_persist(
    qtbot, window, image_folder: Path, settings_file: Path
):
    run_batch(qtbot, window, [image_folder / "case_000.png"])
    plain = np.asarray(load_image(image_folder / "case_000.png"))
    window.heatmap_toggle.setChecked(False)
    np.testing.assert_array_equal(window.displayed_rgb(), plain)
    window.heatmap_toggle.setChecked(True)
    window.opacity_slider.setValue(60)
    predicted_overlay = window.displayed_rgb()
    assert predicted_overlay.shape == plain.shape and not np.array_equal(predicted_overlay, plain)
    predicted = window.current_row().prediction.predicted_index
    other = (predicted + 1) % 3
    window.heatmap_class.setCurrentIndex(other + 1)  # item 0 is "Predicted class"
    assert window.heatmap_class_index() == other
    assert not np.array_equal(window.displayed_rgb(), predicted_overlay)
    window.opacity_slider.setValue(0)
    np.testing.assert_array_equal(window.displayed_rgb(), plain)
    window.opacity_slider.setValue(35)
    window.settings.sync()
    stored = AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat))
    assert stored.heatmap_visible() is True and stored.heatmap_opacity() == 35


def test_model_card_about_and_disclaimer(window, tiny_model: Path):
    dialog = window.show_model_card()
    text = dialog.browser.toPlainText()
    assert file_sha256(tiny_model) in text
    assert "tiny-test-0" in text and "benign, malignant, normal" in text
    assert "Temperature" in text and "1.5" in text
    dialog.close()
    about = window.show_about()
    assert "not a medical device" in about.browser.toPlainText()
    about.close()
    assert window.disclaimer_label.isVisible() and "not a medical device" in window.disclaimer_label.text()


@pytest.mark.parametrize("bad_model", ["missing", "junk"])
def test_missing_or_invalid_model_still_opens_the_app(
    qtbot, tmp_path: Path, tiny_model: Path, image_folder, bad_model
):
    path = tmp_path / "model.onnx"
    if bad_model == "junk":
        path.write_bytes(b"definitely not onnx")
    window = MainWindow(settings=AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(window)
    window.show()
    assert window.load_model(path) is False
    expected = "not found" if bad_model == "missing" else "not a valid ONNX model"
    assert window.isVisible() and window.model_banner.isVisible() and expected in window.model_banner.text()
    box = window.last_error_box
    assert isinstance(box, QMessageBox) and box.isVisible() and expected in box.text()
    assert not window.model_card_action.isEnabled()
    assert window.open_paths([image_folder]) == 0  # nothing to classify with
    box.close()
    assert window.load_model(tiny_model)  # the user opens another model: everything works again
    assert not window.model_banner.isVisible() and window.model_card_action.isEnabled()
    run_batch(qtbot, window, [image_folder / "case_000.png"])
    assert window.chart.probabilities()


def test_out_of_distribution_image_gets_a_warning_and_a_greyed_chart(qtbot, tmp_path: Path, ood_model: Path):
    folder = tmp_path / "mixed"
    write_images(folder, 1)
    outlier_image().save(folder / "holiday_photo.png")
    window = MainWindow(settings=AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(window)
    window.resize(1280, 860)
    window.show()
    assert window.load_model(ood_model)
    run_batch(qtbot, window, [folder])
    names = [row.path.name for row in source_rows(window)]
    window.table.select_source_row(names.index("holiday_photo.png"))
    assert (
        window.ood_banner.isVisible() and "does not look like a breast ultrasound" in window.ood_banner.text()
    )
    assert window.chart.is_dimmed()
    assert "out of distribution" in table_text(window)[names.index("holiday_photo.png")][-1]
    QApplication.processEvents()
    ARTIFACTS.mkdir(exist_ok=True)
    assert window.grab().save(str(ARTIFACTS / "main_window_ood.png"))
    window.table.select_source_row(names.index("case_000.png"))
    assert not window.ood_banner.isVisible() and not window.chart.is_dimmed()
    assert "1 unusual" in window.summary_label.text()


def test_recent_files_last_folder_and_geometry_persist(
    qtbot, tmp_path: Path, tiny_model: Path, image_folder: Path
):
    settings_path = str(tmp_path / "persist.ini")
    first = MainWindow(settings=AppSettings(QSettings(settings_path, QSettings.Format.IniFormat)))
    qtbot.addWidget(first)
    first.resize(900, 640)
    first.show()
    first.load_model(tiny_model)
    run_batch(qtbot, first, [image_folder])
    assert first.recent_menu.actions()[0].text() == str(image_folder)
    first.close()
    saved = first.saveGeometry()
    second = MainWindow(settings=AppSettings(QSettings(settings_path, QSettings.Format.IniFormat)))
    qtbot.addWidget(second)
    assert second.settings.recent_files()[0] == str(image_folder)
    assert second.settings.last_folder() == str(image_folder)
    assert second.settings.geometry() == saved
    assert (
        second.width() < 1280
    )  # the saved geometry replaced the 1280x860 default (the offscreen screen clamps it)


def test_screenshot_with_result_and_heatmap(qtbot, window, tmp_path: Path, lesion_model: Path):
    assert window.load_model(lesion_model)  # the trained model has a lesion-mask head too
    folder = tmp_path / "study"
    write_images(folder, 6, size=(300, 380))
    (folder / "damaged.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    run_batch(qtbot, window, [folder])
    window.table.select_source_row(1)
    window.heatmap_toggle.setChecked(True)
    window.lesion_toggle.setChecked(True)
    window.opacity_slider.setValue(45)
    QApplication.processEvents()
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "main_window.png"
    image = window.grab()
    assert image.save(str(path))
    assert (image.width(), image.height()) == (window.width(), window.height())
    assert path.stat().st_size > 20_000  # a real rendering, not a blank window


def test_lesion_outline_toggle_for_models_with_a_lesion_mask(
    qtbot, window, lesion_model: Path, image_folder: Path
):
    assert window.lesion_toggle.isHidden()  # the tiny model has no lesion_mask output
    assert window.load_model(lesion_model)
    assert window.lesion_toggle.isVisibleTo(window)
    run_batch(qtbot, window, [image_folder / "case_000.png"])
    window.heatmap_toggle.setChecked(False)
    window.lesion_toggle.setChecked(False)
    plain = window.displayed_rgb().copy()
    window.lesion_toggle.setChecked(True)
    outlined = window.displayed_rgb()
    changed = np.any(outlined != plain, axis=2)
    assert changed.any()
    assert (outlined[changed] == (0, 255, 255)).all()  # only outline pixels, in the outline colour


def test_a_cost_weighted_answer_is_shown_and_explained(qtbot, window, tmp_path: Path, image_folder: Path):
    """A model whose decision rule answers malignant shows that answer, highlights its bar and says why."""
    from tests.app.test_decision import LABELS, OVERWHELMING, cost_weighted_model
    from tests.tiny_model import make_tiny_model

    image = image_folder / "case_001.png"
    plain = ModelSession.open(make_tiny_model(tmp_path / "plain.onnx", labels=LABELS)).classify([load_image(image)])[0]
    assert plain.predicted_label != "malignant"
    assert window.load_model(cost_weighted_model(tmp_path / "costly.onnx", {"malignant": OVERWHELMING}))
    run_batch(qtbot, window, [image])
    assert window.predicted_label.text() == "malignant"
    assert window.chart.highlighted_label() == "malignant"
    np.testing.assert_allclose(window.chart.probabilities(), plain.probabilities, rtol=1e-6)
    assert f"{plain.predicted_label} is more probable" in window.confidence_label.text()
    assert table_text(window)[0][-1] == f"OK: cost-weighted answer ({plain.predicted_label} more probable)"
    assert "Answer" in window.show_model_card().browser.toPlainText()
