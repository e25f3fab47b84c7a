"""Turn the activation answer's QR data URI back into text (test helper).

SVG: the module squares of qrcode's path image are read back into a matrix.
Both formats are then decoded by a real QR decoder (zxing-cpp) when it is
installed; :func:`svg_matrix` alone lets a test compare modules without it.
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

_SQUARE = re.compile(r"M(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)H")


def payload(data_uri: str, mime: str) -> bytes:
    """The decoded bytes of a ``data:<mime>;base64,`` URI."""
    prefix = f"data:{mime};base64,"
    assert data_uri.startswith(prefix), data_uri[:40]
    return base64.b64decode(data_uri[len(prefix) :], validate=True)


def svg_matrix(svg: bytes) -> list[list[bool]]:
    """The dark modules of an SVG drawn by qrcode's path image (border included)."""
    root = ET.fromstring(svg)  # noqa: S314 - our own output, parsed in a test
    size = int(float(root.attrib["viewBox"].split()[2]))
    matrix = [[False] * size for _ in range(size)]
    path = next(el for el in root.iter() if el.tag.endswith("path"))
    for x, y in _SQUARE.findall(path.attrib["d"]):
        matrix[int(float(y))][int(float(x))] = True
    return matrix


def _decode_gray(pixels: bytearray, width: int, height: int) -> str:
    import zxingcpp

    image = memoryview(pixels).cast("B", (height, width))
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1, results
    return str(results[0].text)


def decode_matrix(matrix: list[list[bool]], scale: int = 4) -> str:
    """Rasterise a module matrix (dark = True) and decode it."""
    size = len(matrix) * scale
    pixels = bytearray(size * size)
    for y in range(size):
        row = matrix[y // scale]
        for x in range(size):
            pixels[y * size + x] = 0 if row[x // scale] else 255
    return _decode_gray(pixels, size, size)


def decode_png(data: bytes) -> str:
    """Decode a PNG QR code (read with pypng)."""
    import png

    width, height, rows, info = png.Reader(bytes=data).read()
    top = (1 << info["bitdepth"]) - 1
    pixels = bytearray()
    for row in rows:
        pixels.extend(255 * value // top for value in row)
    assert info["greyscale"] and len(pixels) == width * height
    return _decode_gray(pixels, width, height)
