"""Results table: one row per file (file, predicted class, each probability, OOD, status), sortable."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from desktop_app.core.batch import BatchRow, probability_column, row_record

#: Role holding the value used for sorting (numbers sort as numbers).
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ERROR_COLOUR = QColor("#b42318")
OOD_COLOUR = QColor("#b54708")

_Index = QModelIndex | QPersistentModelIndex


class ResultsModel(QAbstractTableModel):
    """Table model over :class:`BatchRow` objects, in arrival order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._labels: tuple[str, ...] = ()
        self._rows: list[BatchRow] = []
        self._records: list[dict[str, object]] = []

    # --- content -------------------------------------------------------------------------------------------------
    def reset(self, labels: Sequence[str]) -> None:
        self.beginResetModel()
        self._labels = tuple(labels)
        self._rows, self._records = [], []
        self.endResetModel()

    def add_row(self, row: BatchRow) -> None:
        position = len(self._rows)
        self.beginInsertRows(QModelIndex(), position, position)
        self._rows.append(row)
        self._records.append(row_record(row, self._labels))
        self.endInsertRows()

    def replace_row(self, position: int, row: BatchRow) -> None:
        """Put a new outcome for the file at ``position`` (e.g. another frame of a multi-frame file)."""
        self._rows[position] = row
        self._records[position] = row_record(row, self._labels)
        self.dataChanged.emit(self.index(position, 0), self.index(position, self.columnCount() - 1))

    def rows(self) -> list[BatchRow]:
        return list(self._rows)

    def row_at(self, position: int) -> BatchRow:
        return self._rows[position]

    def columns(self) -> list[str]:
        return ["File", "Predicted", *self._labels, "OOD score", "Status"]

    # --- Qt model API --------------------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns())

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            columns = self.columns()
            return columns[section] if 0 <= section < len(columns) else None
        return None

    def _cell(self, position: int, column: int) -> tuple[str, object]:
        """(display text, sort value) of one cell."""
        row, record = self._rows[position], self._records[position]
        n_labels = len(self._labels)
        if column == 0:
            return row.path.name, row.path.name.lower()
        if column == 1:
            return (str(record["predicted"]), str(record["predicted"])) if row.ok else ("—", "")
        if 2 <= column < 2 + n_labels:
            value = record[probability_column(self._labels[column - 2])]
            return (f"{100.0 * float(value):.1f} %", float(value)) if value is not None else ("—", -1.0)
        if column == 2 + n_labels:
            score = record["ood_score"]
            if score is None:
                return "—", -1.0
            return (f"{float(score):.2f}" + ("  ⚠" if record["ood_flag"] else "")), float(score)
        if not row.ok:
            return f"Error: {row.error}", "2 error"
        if record["ood_flag"]:
            return "Unusual image (out of distribution)", "1 ood"
        if row.notes:
            return f"Unreliable: {'; '.join(row.notes)}", "1 unreliable"
        if row.prediction is not None and row.prediction.decided_by_cost:
            return f"OK: cost-weighted answer ({row.prediction.most_probable_label} more probable)", "0 ok"
        return "OK", "0 ok"

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        position, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(position, column)[0]
        if role == SORT_ROLE:
            return self._cell(position, column)[1]
        if role == Qt.ItemDataRole.ToolTipRole:
            row = self._rows[position]
            return f"{row.path}\n{row.error}" if row.error else str(row.path)
        if role == Qt.ItemDataRole.ForegroundRole:
            row, record = self._rows[position], self._records[position]
            if not row.ok:
                return ERROR_COLOUR
            if record["ood_flag"] and column in (1, self.columnCount() - 2, self.columnCount() - 1):
                return OOD_COLOUR
        if role == Qt.ItemDataRole.TextAlignmentRole and 2 <= column < self.columnCount() - 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ResultsTable(QTableView):
    """Sortable view of a :class:`ResultsModel` through a proxy; use :meth:`source_row` to map selections."""

    def __init__(self, model: ResultsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results_model = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(SORT_ROLE)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # arrival order until the user clicks a header
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(24)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.setAcceptDrops(False)
        self.viewport().setAcceptDrops(False)
        model.modelReset.connect(self._fit_columns)

    def _fit_columns(self) -> None:
        header = self.horizontalHeader()
        header.resizeSection(0, 220)
        for column in range(1, self.results_model.columnCount() - 1):
            header.resizeSection(column, max(90, header.sectionSizeHint(column) + 12))

    def source_row(self, view_row: int) -> int:
        """Index in the model's arrival order of the row shown at ``view_row``."""
        return self.proxy.mapToSource(self.proxy.index(view_row, 0)).row()

    def view_row(self, source_row: int) -> int:
        return self.proxy.mapFromSource(self.results_model.index(source_row, 0)).row()

    def selected_source_row(self) -> int | None:
        rows = self.selectionModel().selectedRows()
        return self.proxy.mapToSource(rows[0]).row() if rows else None

    def select_source_row(self, source_row: int) -> None:
        self.selectRow(self.view_row(source_row))
