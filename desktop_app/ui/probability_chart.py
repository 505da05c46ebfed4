"""Horizontal bar chart (QtCharts) of class probabilities, predicted class highlighted."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCharts import QBarCategoryAxis, QBarSet, QChart, QChartView, QHorizontalBarSeries, QValueAxis
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QFrame, QWidget

ACCENT = QColor("#1f6fb2")
NEUTRAL = QColor("#a9c4dd")
DIMMED_ACCENT = QColor("#8a8f96")
DIMMED_NEUTRAL = QColor("#d3d6da")


def category_label(label: str, probability: float) -> str:
    """Axis text for one class: name and percentage."""
    return f"{label}   {100.0 * probability:.1f} %"


class ProbabilityChart(QChartView):
    """Shows one prediction's probabilities; :meth:`probabilities` reads back what is drawn."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setAcceptDrops(False)
        self.viewport().setAcceptDrops(False)
        self.setMinimumHeight(150)
        self.setFrameShape(QFrame.Shape.NoFrame)
        chart = QChart()
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        chart.legend().hide()
        chart.setBackgroundRoundness(0)
        chart.setBackgroundBrush(QColor("#ffffff"))
        chart.setBackgroundPen(Qt.PenStyle.NoPen)
        chart.layout().setContentsMargins(0, 0, 0, 0)
        chart.setMargins(QMargins(0, 4, 12, 0))
        self.setChart(chart)
        self._labels: tuple[str, ...] = ()
        self._probabilities: tuple[float, ...] = ()
        self._highlight: int | None = None
        self._dimmed = False
        self._series: QHorizontalBarSeries | None = None
        self._bar_set: QBarSet | None = None
        self._categories: QBarCategoryAxis | None = None

    def _build(self, n_classes: int) -> None:
        """Create the series and axes once per number of classes; later results only update values."""
        chart = self.chart()
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        self._bar_set = QBarSet("probability")
        self._bar_set.append([0.0] * n_classes)
        self._bar_set.setBorderColor(Qt.GlobalColor.transparent)
        self._series = QHorizontalBarSeries()
        self._series.setBarWidth(0.62)
        self._series.append(self._bar_set)
        chart.addSeries(self._series)
        self._categories = QBarCategoryAxis()
        self._categories.append([f"class {i}" for i in range(n_classes)])
        font = QFont(self.font())
        font.setPointSizeF(max(9.5, font.pointSizeF()))
        self._categories.setLabelsFont(font)
        self._categories.setGridLineVisible(False)
        self._categories.setLineVisible(False)
        values = QValueAxis()
        values.setRange(0.0, 100.0)
        values.setTickCount(5)
        values.setLabelFormat("%d%%")
        small = QFont(self.font())
        small.setPointSizeF(max(8.0, font.pointSizeF() - 1.5))
        values.setLabelsFont(small)
        values.setLabelsColor(QColor("#6b7280"))
        values.setGridLineColor(QColor("#e5e7eb"))
        chart.addAxis(self._categories, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(values, Qt.AlignmentFlag.AlignBottom)
        self._series.attachAxis(self._categories)
        self._series.attachAxis(values)
        self.setMaximumHeight(90 + 56 * n_classes)

    def clear(self) -> None:
        """Show no result (the axes stay, the bars and percentages go)."""
        self._labels, self._probabilities, self._highlight = (), (), None
        if self._series is not None:
            self._series.setVisible(False)
            self._categories.setVisible(False)

    def set_probabilities(
        self, labels: Sequence[str], probabilities: Sequence[float], highlight: int, dimmed: bool = False
    ) -> None:
        """Draw bars (0..100 %) for ``labels`` in model order, top to bottom; highlight one class."""
        labels = tuple(labels)
        if self._series is None or self._bar_set.count() != len(labels):
            self._build(len(labels))
        self._labels = labels
        self._probabilities = tuple(float(p) for p in probabilities)
        self._highlight = int(highlight)
        self._dimmed = dimmed
        order = list(reversed(range(len(labels))))  # Qt draws the first category at the bottom
        for position, index in enumerate(order):
            self._bar_set.replace(position, 100.0 * self._probabilities[index])
        self._categories.setCategories([category_label(labels[i], self._probabilities[i]) for i in order])
        self._bar_set.setColor(DIMMED_NEUTRAL if dimmed else NEUTRAL)
        self._bar_set.setSelectedColor(DIMMED_ACCENT if dimmed else ACCENT)
        self._bar_set.deselectAllBars()
        self._bar_set.selectBar(order.index(self._highlight))
        self._series.setVisible(True)
        self._categories.setVisible(True)

    # Read-back for tests and accessibility.
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def probabilities(self) -> tuple[float, ...]:
        """Probabilities as drawn, in model label order (bar values / 100)."""
        if self._bar_set is None or not self._labels:
            return ()
        bar_set = self._bar_set
        drawn = [bar_set.at(i) / 100.0 for i in range(bar_set.count())]
        return tuple(reversed(drawn))

    def highlighted_label(self) -> str | None:
        """The label whose bar is drawn in the accent colour."""
        if self._bar_set is None or not self._labels:
            return None
        selected = self._bar_set.selectedBars()
        if len(selected) != 1:
            return None
        return self._labels[len(self._labels) - 1 - selected[0]]

    def is_dimmed(self) -> bool:
        return self._dimmed
