"""Draw the app icon (a stylised ultrasound fan on a rounded square) into assets/icon.png and assets/icon.ico.

    python packaging/make_icon.py

Deterministic: rerunning gives the same files. macOS builds can make an .icns from icon.png (iconutil).
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ASSETS = Path(__file__).resolve().parents[1] / "assets"
SIZE = 512
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]
BACKGROUND = (24, 54, 92, 255)  # deep blue
FAN = (226, 236, 245, 255)
LESION = (240, 120, 80, 255)


def draw_icon(size: int = SIZE) -> Image.Image:
    """Render the icon at ``size`` x ``size`` RGBA, drawn at 4x and downsampled for smooth edges."""
    scale = 4
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    margin = big // 16
    draw.rounded_rectangle((margin, margin, big - margin, big - margin), radius=big // 6, fill=BACKGROUND)
    # Ultrasound fan: a 70-degree sector from the top centre.
    apex = (big / 2, big * 0.2)
    radius = big * 0.62
    draw.pieslice(
        (apex[0] - radius, apex[1] - radius, apex[0] + radius, apex[1] + radius),
        start=90 - 35,
        end=90 + 35,
        fill=FAN,
    )
    # Inner arc lines to suggest depth bands.
    for fraction in (0.45, 0.7):
        r = radius * fraction
        draw.arc(
            (apex[0] - r, apex[1] - r, apex[0] + r, apex[1] + r),
            start=90 - 35,
            end=90 + 35,
            fill=(170, 190, 210, 255),
            width=big // 90,
        )
    # A lesion: a dark oval with a warm outline in the fan.
    cx, cy = apex[0] + radius * 0.08 * math.sin(0.3), apex[1] + radius * 0.78
    rx, ry = big * 0.1, big * 0.065
    draw.ellipse(
        (cx - rx, cy - ry, cx + rx, cy + ry), fill=(40, 50, 60, 255), outline=LESION, width=big // 60
    )
    image = image.filter(ImageFilter.SMOOTH)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> int:
    ASSETS.mkdir(exist_ok=True)
    icon = draw_icon()
    png_path, ico_path = ASSETS / "icon.png", ASSETS / "icon.ico"
    icon.resize((256, 256), Image.Resampling.LANCZOS).save(png_path, optimize=True)
    icon.save(ico_path, sizes=ICO_SIZES)
    print(f"wrote {png_path} and {ico_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
