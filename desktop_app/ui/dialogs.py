"""Model card and About dialogs."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from desktop_app import __version__
from desktop_app.core.model_card import ModelCard

DISCLAIMER = "Research tool — not a medical device. Not for diagnosis or treatment decisions."

ABOUT_HTML = f"""
<h3>Breast-ultrasound classifier {__version__}</h3>
<p><b>Research tool, not a medical device.</b> It must not be used for diagnosis, screening or
treatment decisions. Results are model estimates and can be wrong.</p>
<p>The app classifies breast-ultrasound images with a DenseNet121 model (ONNX, run on this computer with
onnxruntime; images never leave the machine), shows calibrated class probabilities, a class-activation heatmap
and a warning when an image does not look like the ultrasound images the model was trained on.</p>
<p>See Help › Model card for the loaded model's version, checksum, training data and held-out metrics.</p>
"""


def model_card_html(card: ModelCard) -> str:
    """The card as simple HTML: one table per section."""
    parts = [f"<h3>Model card — {html.escape(card.version)}</h3>", f"<p><i>{html.escape(DISCLAIMER)}</i></p>"]
    for title, fields in card.sections():
        parts.append(f"<h4>{html.escape(title)}</h4><table cellspacing='0' cellpadding='3'>")
        for name, value in fields:
            parts.append(
                f"<tr><td valign='top' style='color:#4b5563; padding-right:14px'>{html.escape(name)}</td>"
                f"<td>{html.escape(value)}</td></tr>"
            )
        parts.append("</table>")
    return "\n".join(parts)


class TextDialog(QDialog):
    """A resizable dialog showing rich text and a Close button."""

    def __init__(self, title: str, html_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(640, 560)
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(False)
        self.browser.setHtml(html_text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)


class ModelCardDialog(TextDialog):
    def __init__(self, card: ModelCard, parent: QWidget | None = None) -> None:
        super().__init__("Model card", model_card_html(card), parent)
        self.card = card


class AboutDialog(TextDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("About", ABOUT_HTML, parent)
        self.resize(520, 340)
