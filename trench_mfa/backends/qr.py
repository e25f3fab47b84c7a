"""QR codes drawn on this server, returned as ``data:`` URIs.

The otpauth URI holds the TOTP seed, so it never goes to a chart service or
any other third party: ``qrcode`` draws it here. SVG needs nothing else; PNG
uses ``pypng`` (``pip install "trench-mfa[png]"``) or Pillow when installed.
"""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.constants
from django.core.exceptions import ImproperlyConfigured
from qrcode.image.svg import SvgPathFillImage

QR_FORMATS = ("svg", "png")


def _matrix(text: str) -> qrcode.QRCode:
    # Level M survives a smudged or partly covered screen; box 10 and the
    # 4-module quiet zone are what the QR standard and phone scanners expect.
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    return qr


def _png_factory() -> type:
    try:
        from qrcode.compat.png import PngWriter
        from qrcode.image.pure import PyPNGImage

        if PngWriter is not None:
            return PyPNGImage
    except ImportError:
        pass
    try:
        from qrcode.image.pil import PilImage

        return PilImage
    except ImportError:
        raise ImproperlyConfigured(
            'QR_CODE_FORMAT "png" needs pypng or Pillow: pip install "trench-mfa[png]".'
        ) from None


def qr_code_data_uri(text: str, fmt: str = "svg") -> str:
    """``text`` as a QR code: ``data:image/svg+xml;base64,...`` or ``data:image/png;...``."""
    qr = _matrix(text)
    if fmt == "png":
        buffer = io.BytesIO()
        qr.make_image(image_factory=_png_factory()).save(buffer)
        payload, mime = buffer.getvalue(), "image/png"
    elif fmt == "svg":
        payload, mime = qr.make_image(image_factory=SvgPathFillImage).to_string(), "image/svg+xml"
    else:
        raise ImproperlyConfigured(f"QR_CODE_FORMAT must be one of {QR_FORMATS}, not {fmt!r}.")
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"
