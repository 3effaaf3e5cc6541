"""Readable plain text from an HTML email body, with the standard library's ``html.parser`` only.

Block elements become paragraphs, ``<br>`` a line break, links ``text (url)``, list
items ``- item``; ``<script>``, ``<style>``, ``<head>`` and comments are dropped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

# fmt: off
_BLOCK = frozenset({
    "p", "div", "section", "article", "header", "footer", "blockquote", "pre", "table", "tr", "ul", "ol",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "address", "center", "dl", "dt", "dd", "form", "fieldset",
})
_DROP = frozenset({"script", "style", "head", "title", "noscript", "template", "svg", "object", "iframe"})
# fmt: on
_VOID = {"br", "hr", "img", "meta", "link", "input", "wbr", "area", "base", "col", "embed", "source", "track"}


class _TextExtractor(HTMLParser):
    """Collects text, turning structure into newlines as it goes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._drop_depth = 0
        self._links: list[tuple[str | None, int]] = []
        self._pre = 0

    def _newlines(self, count: int) -> None:
        self.out.append("\n" * count)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            if tag not in _VOID:
                self._drop_depth += 1
            return
        if self._drop_depth:
            return
        if tag == "br":
            self._newlines(1)
        elif tag == "li":
            self._newlines(1)
            self.out.append("- ")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag in _BLOCK:
            self._newlines(2)
            if tag == "hr":
                self.out.append("----")
                self._newlines(2)
            if tag == "pre":
                self._pre += 1
        elif tag == "a":
            self._links.append((dict(attrs).get("href"), len(self.out)))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.out.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self._drop_depth = max(0, self._drop_depth - 1)
            return
        if self._drop_depth:
            return
        if tag == "a" and self._links:
            href, start = self._links.pop()
            text = "".join(self.out[start:]).strip()
            if href and not href.lower().startswith(("javascript:", "#")):
                target = href[7:] if href.lower().startswith("mailto:") else href
                if text and text != target:
                    self.out.append(f" ({target})")
                elif not text:
                    self.out.append(target)
        elif tag in _BLOCK:
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            self._newlines(2)

    def handle_data(self, data: str) -> None:
        if self._drop_depth:
            return
        if self._pre:
            self.out.append(data)
        else:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Turn an HTML document or fragment into readable plain text; never raises."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient, but be certain a broken body never breaks ingest
        return re.sub(r"<[^>]*>", " ", html).strip()
    text = "".join(parser.out).replace("\xa0", " ")
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
