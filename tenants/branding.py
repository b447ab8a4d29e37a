"""How a tenant's branding reads: colour contrast (WCAG 2.1) and its uploaded logo.

The contrast check warns, it does not refuse: a tenant may keep its brand colours, but the
settings page says which text becomes hard to read, for the saved branding and live in
the preview. The pairs are the ones templates/base.html paints.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from tenants.configuration import COLOUR, Branding, ConfigurationError

WCAG_AA_NORMAL_TEXT = 4.5
WHITE = "#ffffff"
BODY_TEXT = "#1d2430"  # --text in config/static/askpanel/app.css

LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}
LOGO_MAX_SIDE = 2000


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of a #rgb or #rrggbb colour."""
    if not COLOUR.match(colour):
        raise ValueError(f"{colour!r} is not a hex colour")
    digits = colour[1:]
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = []
    for i in (0, 2, 4):
        value = int(digits[i:i + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(foreground: str, background: str) -> float:
    """From 1 (same colour) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@dataclass(frozen=True)
class ContrastWarning:
    where: str
    foreground: str
    background: str
    ratio: float

    @property
    def message(self) -> str:
        return (
            f"{self.where}: contrast {self.ratio:.2f}:1 is below {WCAG_AA_NORMAL_TEXT}:1 (WCAG AA); "
            "choose a darker or lighter colour."
        )


def contrast_warnings(branding: Branding) -> list[ContrastWarning]:
    """The text/background pairs of the base layout that fall below WCAG AA."""
    pairs = [
        ("White text on the primary colour (header and navigation)", WHITE, branding.primary_color),
        ("White text on the accent colour (buttons)", WHITE, branding.accent_color),
        ("Body text on the secondary colour (page background)", BODY_TEXT, branding.secondary_color),
        ("Primary-coloured links and headings on white cards", branding.primary_color, WHITE),
    ]
    warnings = []
    for where, foreground, background in pairs:
        ratio = contrast_ratio(foreground, background)
        if ratio < WCAG_AA_NORMAL_TEXT:
            warnings.append(ContrastWarning(where, foreground, background, ratio))
    return warnings


def logo_validate(upload: UploadedFile) -> str:
    """Check that an upload is a small raster image; returns its file extension."""
    from PIL import Image, UnidentifiedImageError

    limit_kb = settings.BRANDING_LOGO_MAX_KB
    if upload.size > limit_kb * 1024:
        raise ConfigurationError(
            "branding.logo", f"the file is {upload.size // 1024} KB; a logo may be at most {limit_kb} KB."
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image.verify()
            kind, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ConfigurationError("branding.logo", "is not an image; upload a PNG, JPEG, GIF or WebP file.") from exc
    finally:
        upload.seek(0)
    if kind not in LOGO_FORMATS:
        raise ConfigurationError("branding.logo", f"{kind} images are not accepted; upload a PNG, JPEG, GIF or WebP.")
    if max(width, height) > LOGO_MAX_SIDE:
        raise ConfigurationError(
            "branding.logo", f"is {width}x{height} pixels; a logo may be at most {LOGO_MAX_SIDE} on its longer side."
        )
    return LOGO_FORMATS[kind]
