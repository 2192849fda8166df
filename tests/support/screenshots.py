"""Screenshots for docs/, rewritten only when they changed visually: Chromium anti-aliases a few
pixels of rounded corners differently from run to run, and a test run should not leave those
behind as changes to commit."""

from __future__ import annotations

import base64
from pathlib import Path

from playwright.sync_api import Browser

NOISE_PIXELS = 64
"""Up to this many differing pixels is rendering noise; a change a person would see is more."""

_COUNT_DIFFERING_PIXELS = """async ([first, second]) => {
  const pixels = async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = new OffscreenCanvas(image.width, image.height);
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    return [image.width, image.height, context.getImageData(0, 0, image.width, image.height).data];
  };
  const [[width, height, a], [otherWidth, otherHeight, b]] = await Promise.all([pixels(first), pixels(second)]);
  if (width !== otherWidth || height !== otherHeight) return width * height + 1;
  let differing = 0;
  for (let i = 0; i < a.length; i += 4) {
    if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2] || a[i + 3] !== b[i + 3]) differing += 1;
  }
  return differing;
}"""


def differing_pixels(browser: Browser, first: bytes, second: bytes) -> int:
    page = browser.new_page()
    try:
        encoded = [base64.b64encode(image).decode() for image in (first, second)]
        return int(page.evaluate(_COUNT_DIFFERING_PIXELS, encoded))
    finally:
        page.close()


def save_screenshot(browser: Browser, png: bytes, path: Path) -> None:
    if path.exists() and differing_pixels(browser, path.read_bytes(), png) <= NOISE_PIXELS:
        return
    path.write_bytes(png)
