"""The main window (view): image with heatmap, result and probability chart, results table, menus, drops."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core import heatmap
from desktop_app.core.batch import BatchRow
from desktop_app.core.imageio import IMAGE_SUFFIXES, SUPPORTED_FORMATS_TEXT, ImageLoadError
from desktop_app.core.inference import ModelSession
from desktop_app.core.paths import bundled_int8_model_path, bundled_model_path
from desktop_app.ui.controller import AppController
from desktop_app.ui.dialogs import DISCLAIMER, AboutDialog, ModelCardDialog
from desktop_app.ui.image_view import ImageView
from desktop_app.ui.probability_chart import ProbabilityChart
from desktop_app.ui.qt_images import rgb_to_pixmap
from desktop_app.ui.results_table import ResultsTable
from desktop_app.ui.settings import AppSettings

WINDOW_TITLE = "Breast-ultrasound classifier"
OOD_WARNING = (
    "This image does not look like a breast ultrasound the model was trained on. "
    "The probabilities below are unreliable for it."
)
STYLE_SHEET = """
QLabel#sectionTitle { color: #4b5563; font-weight: 600; letter-spacing: 0.5px; }
QLabel#predicted { font-size: 20pt; font-weight: 700; color: #111827; }
QLabel#confidence { font-size: 11pt; color: #374151; }
QLabel#caption { color: #374151; font-weight: 600; }
QLabel#oodBanner { background: #fff4e5; color: #7a3e00; border: 1px solid #f0b46a; border-radius: 4px;
                   padding: 8px; }
QLabel#errorBanner { background: #fdecea; color: #8a1c13; border: 1px solid #f1a9a0; border-radius: 4px;
                     padding: 8px; }
QLabel#modelBanner { background: #fdecea; color: #8a1c13; border-bottom: 1px solid #f1a9a0; padding: 8px 12px; }
QLabel#disclaimer { background: #fff8eb; color: #7a3e00; font-weight: 600; padding: 5px;
                    border-top: 1px solid #f3d9a4; }
QFrame#resultPanel { background: #ffffff; border: 1px solid #e5e7eb; border-radius: 6px; }
"""


def paths_from_mime(mime: QMimeData) -> list[str]:
    """Local files and folders carried by a drag (URLs that are not local files are ignored)."""
    if not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


def _section_title(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("sectionTitle")
    return label


class MainWindow(QMainWindow):
    """Views only: user actions go to the :class:`AppController`, its signals update the widgets."""

    def __init__(self, controller: AppController | None = None, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.controller = controller or AppController(self)
        self.settings = settings or AppSettings()
        self.setWindowTitle(WINDOW_TITLE)
        self.setAcceptDrops(True)
        self.setStyleSheet(STYLE_SHEET)
        self.last_error_box: QMessageBox | None = None
        self._current_row: int | None = None
        self._display_rgb: np.ndarray | None = None
        self._overlay_cache: dict[tuple[str, int, int], np.ndarray] = {}
        self._build_widgets()
        self._build_menus()
        self._connect()
        self._restore_settings()
        self._show_empty_result()

    # --- construction --------------------------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.model_banner = QLabel()
        self.model_banner.setObjectName("modelBanner")
        self.model_banner.setWordWrap(True)
        self.model_banner.hide()

        # Image side.
        self.caption = QLabel("No image")
        self.caption.setObjectName("caption")
        self.image_view = ImageView()
        self.heatmap_toggle = QCheckBox("Heatmap")
        self.heatmap_toggle.setToolTip("Overlay the class-activation map: where the model found evidence")
        self.heatmap_class = QComboBox()
        self.heatmap_class.setToolTip("Class whose evidence the heatmap shows")
        self.heatmap_class.setMinimumContentsLength(12)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setFixedWidth(110)
        self.opacity_label = QLabel()
        self.opacity_label.setMinimumWidth(44)
        # Frame choice, shown only for multi-frame files (DICOM cine loops, animated GIFs).
        self.frame_label = QLabel("Frame:")
        self.frame_spin = QSpinBox()
        self.frame_spin.setToolTip(
            "Several frames in this file (e.g. a DICOM cine loop): choose one to classify"
        )
        self.frame_label.hide()
        self.frame_spin.hide()
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.frame_label)
        controls.addWidget(self.frame_spin)
        controls.addWidget(self.heatmap_toggle)
        controls.addSpacing(10)
        controls.addWidget(QLabel("Class:"))
        controls.addWidget(self.heatmap_class)
        controls.addSpacing(10)
        controls.addWidget(QLabel("Opacity:"))
        controls.addWidget(self.opacity_slider)
        controls.addWidget(self.opacity_label)
        controls.addWidget(QLabel("low"))
        self.heatmap_legend = QLabel()
        gradient = heatmap.colormap(np.tile(np.linspace(0.0, 1.0, 80, dtype=np.float32), (12, 1)))
        self.heatmap_legend.setPixmap(rgb_to_pixmap(gradient))
        self.heatmap_legend.setToolTip(
            "Heatmap colours: relative evidence for the chosen class within this image"
        )
        controls.addWidget(self.heatmap_legend)
        controls.addWidget(QLabel("high"))
        controls.addStretch(1)
        self.lesion_toggle = QCheckBox("Lesion outline")
        self.lesion_toggle.setToolTip("Outline where the model's lesion-segmentation output is at least 50 %")
        self.lesion_toggle.hide()  # shown for models with a lesion_mask output
        controls.addWidget(self.lesion_toggle)
        image_side = QWidget()
        image_layout = QVBoxLayout(image_side)
        image_layout.setContentsMargins(8, 8, 4, 4)
        image_layout.addWidget(self.caption)
        image_layout.addWidget(self.image_view, 1)
        image_layout.addLayout(controls)

        # Result side.
        self.predicted_label = QLabel()
        self.predicted_label.setObjectName("predicted")
        self.confidence_label = QLabel()
        self.confidence_label.setObjectName("confidence")
        self.confidence_label.setWordWrap(True)
        self.ood_banner = QLabel(OOD_WARNING)
        self.ood_banner.setObjectName("oodBanner")
        self.ood_banner.setWordWrap(True)
        self.ood_banner.hide()
        self.error_banner = QLabel()
        self.error_banner.setObjectName("errorBanner")
        self.error_banner.setWordWrap(True)
        self.error_banner.hide()
        self.chart = ProbabilityChart()
        self.chart_note = QLabel("Calibrated probabilities. Predicted class highlighted.")
        self.chart_note.setStyleSheet("color: #6b7280;")
        self.chart_note.setWordWrap(True)
        panel = QFrame()
        panel.setObjectName("resultPanel")
        panel_layout = QVBoxLayout(panel)
        panel_layout.setContentsMargins(14, 12, 14, 12)
        panel_layout.setSpacing(6)
        panel_layout.addWidget(_section_title("Result"))
        panel_layout.addWidget(self.predicted_label)
        panel_layout.addWidget(self.confidence_label)
        panel_layout.addWidget(self.ood_banner)
        panel_layout.addWidget(self.error_banner)
        panel_layout.addSpacing(6)
        panel_layout.addWidget(_section_title("Class probabilities"))
        panel_layout.addWidget(self.chart, 1)
        panel_layout.addWidget(self.chart_note)
        result_side = QWidget()
        result_layout = QVBoxLayout(result_side)
        result_layout.setContentsMargins(4, 8, 8, 4)
        result_layout.addWidget(panel)
        result_side.setMinimumWidth(300)

        self.top_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.top_splitter.addWidget(image_side)
        self.top_splitter.addWidget(result_side)
        self.top_splitter.setStretchFactor(0, 3)
        self.top_splitter.setStretchFactor(1, 2)
        self.top_splitter.setChildrenCollapsible(False)

        # Results table side.
        self.table = ResultsTable(self.controller.results)
        self.summary_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setFixedWidth(220)
        self.progress_bar.setFormat("%v / %m")
        self.progress_bar.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.hide()
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setEnabled(False)
        table_bar = QHBoxLayout()
        table_bar.setContentsMargins(0, 0, 0, 0)
        table_bar.addWidget(_section_title("Results"))
        table_bar.addSpacing(8)
        self.summary_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        table_bar.addWidget(self.summary_label, 1)
        table_bar.addWidget(self.progress_bar)
        table_bar.addWidget(self.cancel_button)
        table_bar.addWidget(self.export_button)
        table_side = QWidget()
        table_layout = QVBoxLayout(table_side)
        table_layout.setContentsMargins(8, 4, 8, 4)
        table_layout.addLayout(table_bar)
        table_layout.addWidget(self.table, 1)

        self.main_splitter = QSplitter(Qt.Orientation.Vertical)
        self.main_splitter.addWidget(self.top_splitter)
        self.main_splitter.addWidget(table_side)
        self.main_splitter.setStretchFactor(0, 3)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setChildrenCollapsible(False)

        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.model_banner)
        central_layout.addWidget(self.main_splitter, 1)
        self.disclaimer_label = QLabel(DISCLAIMER)
        self.disclaimer_label.setObjectName("disclaimer")
        self.disclaimer_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        central_layout.addWidget(self.disclaimer_label)
        self.setCentralWidget(central)

        self.model_status = QLabel("No model")
        self.statusBar().addPermanentWidget(self.model_status)
        self.resize(1280, 860)
        self.main_splitter.setSizes([560, 260])

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_images_action = QAction("&Open image(s)…", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_folder_action = QAction("Open &folder…", self, shortcut=QKeySequence("Ctrl+Shift+O"))
        self.recent_menu = QMenu("Open &recent", self)
        self.open_model_action = QAction("Open &model…", self)
        self.bundled_model_action = QAction("Use bundled model (full precision)", self)
        self.bundled_int8_action = QAction("Use bundled &fast model (int8)", self)
        self.bundled_model_action.setEnabled(bundled_model_path().is_file())
        self.bundled_int8_action.setEnabled(bundled_int8_model_path().is_file())
        self.export_action = QAction("&Export CSV…", self, shortcut=QKeySequence("Ctrl+E"))
        self.export_action.setEnabled(False)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(self.open_images_action)
        file_menu.addAction(self.open_folder_action)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.open_model_action)
        file_menu.addAction(self.bundled_model_action)
        file_menu.addAction(self.bundled_int8_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        self.model_card_action = QAction("&Model card…", self)
        self.model_card_action.setEnabled(False)
        self.about_action = QAction("&About", self)
        help_menu.addAction(self.model_card_action)
        help_menu.addAction(self.about_action)
        self._rebuild_recent_menu()

    def _connect(self) -> None:
        self.open_images_action.triggered.connect(self.choose_images)
        self.open_folder_action.triggered.connect(self.choose_folder)
        self.open_model_action.triggered.connect(self.choose_model)
        self.bundled_model_action.triggered.connect(lambda: self.load_model(bundled_model_path()))
        self.bundled_int8_action.triggered.connect(lambda: self.load_model(bundled_int8_model_path()))
        self.export_action.triggered.connect(self.choose_csv_destination)
        self.export_button.clicked.connect(self.choose_csv_destination)
        self.cancel_button.clicked.connect(self.controller.cancel)
        self.model_card_action.triggered.connect(self.show_model_card)
        self.about_action.triggered.connect(self.show_about)
        self.heatmap_toggle.toggled.connect(self._on_overlay_changed)
        self.lesion_toggle.toggled.connect(self._on_overlay_changed)
        self.heatmap_class.currentIndexChanged.connect(self._on_overlay_changed)
        self.opacity_slider.valueChanged.connect(self._on_overlay_changed)
        self.frame_spin.valueChanged.connect(self._on_frame_changed)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        c = self.controller
        c.model_loaded.connect(self._on_model_loaded)
        c.model_failed.connect(self._on_model_failed)
        c.batch_started.connect(self._on_batch_started)
        c.row_added.connect(self._on_row_added)
        c.progress.connect(self._on_progress)
        c.batch_finished.connect(self._on_batch_finished)
        c.notice.connect(lambda text: self.statusBar().showMessage(text, 8000))

    def _restore_settings(self) -> None:
        geometry = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        for name, splitter in (("top_splitter", self.top_splitter), ("main_splitter", self.main_splitter)):
            state = self.settings.splitter_state(name)
            if state is not None:
                splitter.restoreState(state)
        self.opacity_slider.setValue(self.settings.heatmap_opacity())
        self.opacity_label.setText(f"{self.opacity_slider.value()} %")
        self.heatmap_toggle.setChecked(self.settings.heatmap_visible())
        self.lesion_toggle.setChecked(self.settings.lesion_outline_visible())

    # --- user actions (also the API tests drive) -----------------------------------------------------------------
    def load_model(self, path: str | os.PathLike[str]) -> bool:
        return self.controller.load_model(path)

    def open_paths(self, paths: Iterable[str | os.PathLike[str]]) -> int:
        """Classify files/folders; remembers them as recent and their folder as the last folder."""
        paths = [str(p) for p in paths]
        count = self.controller.open_paths(paths)
        if count:
            self.settings.add_recent(paths)
            first = Path(paths[0])
            self.settings.set_last_folder(first if first.is_dir() else first.parent)
            self._rebuild_recent_menu()
        return count

    def choose_images(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in sorted(IMAGE_SUFFIXES))
        files, _ = QFileDialog.getOpenFileNames(
            self, "Open images", self.settings.last_folder(), f"Images ({patterns});;All files (*)"
        )
        if files:
            self.open_paths(files)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open folder", self.settings.last_folder())
        if folder:
            self.open_paths([folder])

    def choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open model", self.settings.last_folder(), "ONNX models (*.onnx);;All files (*)"
        )
        if path:
            self.load_model(path)

    def choose_csv_destination(self) -> None:
        default = str(Path(self.settings.last_folder()) / "results.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export results as CSV", default, "CSV files (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str | os.PathLike[str]) -> int:
        try:
            count = self.controller.export_csv(path)
        except OSError as error:
            self._show_error("Export failed", f"Could not write {path}: {error.strerror or error}")
            return 0
        self.statusBar().showMessage(f"Exported {count} rows to {path}", 8000)
        return count

    def show_model_card(self) -> ModelCardDialog | None:
        card = self.controller.model_card()
        if card is None:
            self._show_error("No model", "No model is loaded. Use File › Open model… first.")
            return None
        dialog = ModelCardDialog(card, self)
        dialog.open()
        return dialog

    def show_about(self) -> AboutDialog:
        dialog = AboutDialog(self)
        dialog.open()
        return dialog

    # --- drag and drop anywhere on the window --------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if paths_from_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if paths_from_mime(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = paths_from_mime(event.mimeData())
        if paths:
            event.acceptProposedAction()
            # Return to the drag source first; classify once the drop has completed.
            QTimer.singleShot(0, lambda: self.open_paths(paths))

    # --- controller signals --------------------------------------------------------------------------------------
    def _on_model_loaded(self, session: ModelSession) -> None:
        self.model_banner.hide()
        info = session.info
        self.model_status.setText(f"Model {info.version} · {', '.join(info.labels)}")
        self.model_status.setToolTip(str(info.path))
        self.model_card_action.setEnabled(True)
        self.lesion_toggle.setVisible(info.has_lesion_mask)
        self.heatmap_class.blockSignals(True)
        self.heatmap_class.clear()
        self.heatmap_class.addItem("Predicted class", None)
        for index, label in enumerate(info.labels):
            self.heatmap_class.addItem(label, index)
        self.heatmap_class.blockSignals(False)
        self._clear_display()
        self.statusBar().showMessage(f"Loaded model {info.version} from {info.path.name}", 8000)

    def _on_model_failed(self, message: str) -> None:
        self.model_status.setText("No model")
        self.model_card_action.setEnabled(False)
        self.model_banner.setText(f"No model loaded — {message}. Use File › Open model… to choose one.")
        self.model_banner.show()
        self._clear_display()
        self._show_error(
            "Model could not be loaded", f"{message}\n\nUse File › Open model… to choose another model."
        )

    def _on_batch_started(self, total: int) -> None:
        self._clear_display()
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(0)
        self.progress_bar.setVisible(total > 1)
        self.cancel_button.setVisible(total > 1)
        self.cancel_button.setEnabled(True)
        self.summary_label.setText(f"Classifying {total} file{'s' if total != 1 else ''}…")

    def _on_row_added(self, position: int) -> None:
        if self.table.selected_source_row() is None and position == 0:
            self.table.select_source_row(0)
        self._update_summary()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)

    def _on_batch_finished(self, cancelled: bool) -> None:
        self.progress_bar.hide()
        self.cancel_button.hide()
        self.cancel_button.setEnabled(False)
        self._update_summary(cancelled)
        has_rows = self.controller.results.rowCount() > 0
        self.export_button.setEnabled(has_rows)
        self.export_action.setEnabled(has_rows)

    def _update_summary(self, cancelled: bool = False) -> None:
        rows = self.controller.rows()
        errors = sum(not row.ok for row in rows)
        unusual = sum(bool(row.prediction is not None and row.prediction.is_ood) for row in rows)
        parts = [f"{len(rows)} image{'s' if len(rows) != 1 else ''}"]
        if errors:
            parts.append(f"{errors} could not be read")
        if unusual:
            parts.append(f"{unusual} unusual")
        if cancelled:
            parts.append("cancelled")
        self.summary_label.setText(" · ".join(parts))

    # --- showing one result --------------------------------------------------------------------------------------
    def _on_selection_changed(self, *_: object) -> None:
        position = self.table.selected_source_row()
        if position is not None:
            self.show_row(position)

    def current_row(self) -> BatchRow | None:
        return self.controller.results.row_at(self._current_row) if self._current_row is not None else None

    def show_row(self, position: int) -> None:
        """Show the image and result of one row (by arrival order)."""
        row = self.controller.results.row_at(position)
        self._current_row = position
        self._overlay_cache.clear()
        self.caption.setText(str(row.path.name))
        self.caption.setToolTip(str(row.path))
        self._show_frame_choice(row)
        if row.prediction is None:
            self._display_rgb = None
            self.image_view.set_pixmap(None)
            self.image_view.set_placeholder("This file could not be shown.")
            self._show_error_result(row.error or "unknown error")
            return
        try:
            self._display_rgb = np.asarray(self.controller.display_image(row.path, frame=row.frame))
        except ImageLoadError as error:
            self._display_rgb = None
            self.image_view.set_placeholder(f"Cannot show the image: {error}")
        prediction = row.prediction
        self.error_banner.hide()
        self.predicted_label.setText(prediction.predicted_label)
        self.confidence_label.setText(prediction.confidence_text())
        unusual = bool(prediction.is_ood)
        if unusual:
            statistics = self.controller.session.info.ood if self.controller.session is not None else None
            if prediction.is_colour_picture:
                detail = f"\nReason: {prediction.colour_detail}."
            elif statistics is not None:
                detail = (f"\n(out-of-distribution score {prediction.ood_score:.2f}, "
                          f"threshold {statistics.threshold:.2f})")
            else:
                detail = ""
            self.ood_banner.setText(OOD_WARNING + detail)
        self.ood_banner.setVisible(unusual)
        self.predicted_label.setStyleSheet("color: #6b7280;" if unusual else "")
        self.chart.setEnabled(not unusual)
        self.chart.set_probabilities(
            prediction.labels, prediction.probabilities, prediction.predicted_index, dimmed=unusual
        )
        self._set_heatmap_controls_enabled(True)
        self._render_image()

    def _show_frame_choice(self, row: BatchRow) -> None:
        """Show the frame spin box for a multi-frame file, set to the frame the row was classified on."""
        frames = self.controller.frame_count(row.path)
        self.frame_spin.blockSignals(True)
        self.frame_spin.setRange(1, max(1, frames))  # shown 1-based; BatchRow.frame is 0-based
        self.frame_spin.setSuffix(f" of {frames}")
        self.frame_spin.setValue(row.frame + 1)
        self.frame_spin.blockSignals(False)
        self.frame_label.setVisible(frames > 1)
        self.frame_spin.setVisible(frames > 1)

    def _on_frame_changed(self, shown_frame: int) -> None:
        frame = shown_frame - 1
        row = self.current_row()
        if row is None or self._current_row is None or frame == row.frame:
            return
        self.controller.classify_frame(self._current_row, frame)
        self.show_row(self._current_row)

    def _show_error_result(self, message: str) -> None:
        self.predicted_label.setText("Not classified")
        self.predicted_label.setStyleSheet("color: #6b7280;")
        self.confidence_label.setText("")
        self.ood_banner.hide()
        self.error_banner.setText(message)
        self.error_banner.show()
        self.chart.clear()
        self._set_heatmap_controls_enabled(False)

    def _show_empty_result(self) -> None:
        self.predicted_label.setText("—")
        self.predicted_label.setStyleSheet("color: #9ca3af;")
        self.confidence_label.setText("Open or drop images to classify them.")
        self.ood_banner.hide()
        self.error_banner.hide()
        self.chart.clear()
        self._set_heatmap_controls_enabled(False)

    def _clear_display(self) -> None:
        self._current_row = None
        self._display_rgb = None
        self._overlay_cache.clear()
        self.caption.setText("No image")
        self.image_view.set_pixmap(None)
        self.image_view.set_placeholder(
            f"Open or drop ultrasound images ({SUPPORTED_FORMATS_TEXT}) or a folder"
        )
        self._show_empty_result()
        self.summary_label.setText("")
        self.export_button.setEnabled(False)
        self.export_action.setEnabled(False)

    def _set_heatmap_controls_enabled(self, enabled: bool) -> None:
        for widget in (self.heatmap_toggle, self.heatmap_class, self.opacity_slider, self.lesion_toggle):
            widget.setEnabled(enabled)

    def heatmap_class_index(self) -> int | None:
        """Class the heatmap shows: the chosen one, or the predicted one."""
        row = self.current_row()
        if row is None or row.prediction is None:
            return None
        chosen = self.heatmap_class.currentData()
        return int(chosen) if chosen is not None else row.prediction.predicted_index

    def _on_overlay_changed(self, *_: object) -> None:
        self.opacity_label.setText(f"{self.opacity_slider.value()} %")
        self.settings.set_heatmap_visible(self.heatmap_toggle.isChecked())
        self.settings.set_heatmap_opacity(self.opacity_slider.value())
        self.settings.set_lesion_outline_visible(self.lesion_toggle.isChecked())
        self._render_image()

    def displayed_rgb(self) -> np.ndarray | None:
        """The RGB pixels currently shown: the image, with the heatmap and lesion outline when they are on."""
        if self._display_rgb is None:
            return None
        row = self.current_row()
        if row is None or row.prediction is None:
            return self._display_rgb
        prediction = row.prediction
        shown = self._display_rgb
        class_index = self.heatmap_class_index()
        position = self._current_row or 0
        if self.heatmap_toggle.isChecked() and class_index is not None:
            key = ("heat", position, class_index)
            if key not in self._overlay_cache:
                self._overlay_cache[key] = heatmap.heatmap(prediction.cam, class_index, shown.shape[:2])
            shown = heatmap.overlay(shown, self._overlay_cache[key], self.opacity_slider.value() / 100.0)
        if self.lesion_toggle.isChecked() and prediction.lesion_mask is not None:
            key = ("outline", position, 0)
            if key not in self._overlay_cache:
                self._overlay_cache[key] = heatmap.lesion_outline(prediction.lesion_mask, shown.shape[:2])
            shown = heatmap.draw_outline(shown, self._overlay_cache[key])
        return shown

    def _render_image(self) -> None:
        rgb = self.displayed_rgb()
        self.image_view.set_pixmap(rgb_to_pixmap(rgb) if rgb is not None else None)

    # --- misc ----------------------------------------------------------------------------------------------------
    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_paths([p]))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)
        self.recent_menu.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self.settings.clear_recent()
        self._rebuild_recent_menu()

    def _show_error(self, title: str, message: str) -> None:
        """Non-blocking warning dialog (the window stays usable behind it)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.last_error_box = box

    def closeEvent(self, event: QCloseEvent) -> None:
        self.controller.cancel(wait=True)
        self.settings.set_geometry(self.saveGeometry())
        self.settings.set_splitter_state("top_splitter", self.top_splitter.saveState())
        self.settings.set_splitter_state("main_splitter", self.main_splitter.saveState())
        self.settings.sync()
        super().closeEvent(event)
