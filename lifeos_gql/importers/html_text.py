"""A light HTML-to-text conversion on the standard library's html.parser.

Enough for e-mail bodies and EPUB chapters: drops scripts/styles, turns
block elements into line breaks and list items into bullets, decodes
entities, and notes the page title, first heading and links on the way.
html.parser is forgiving with broken markup, which e-mail HTML often is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "head", "template", "noscript", "svg", "math"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
# Blocks that read as separate paragraphs get a blank line around them.
_PARAGRAPH = frozenset(
    {"blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "p", "pre", "table", "ul", "ol", "dl"}
)
_HEADINGS = frozenset({"h1", "h2", "h3"})
# Private-use markers for breaks, resolved after parsing so that adjacent
# blocks produce one line break (or one blank line), not a pile of them.
_LINE = "\ue000"
_PARA = "\ue001"
_PRE_NEWLINE = "\ue002"
_BREAKS = re.compile(r"[ \t]*[\ue000\ue001][\ue000\ue001 \t]*")
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr"})
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")


@dataclass(slots=True)
class HtmlText:
    """The readable text of a page and a few landmarks found in it."""

    text: str
    title: str | None = None
    heading: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.title_parts: list[str] | None = None
        self.title: str | None = None
        self.heading_parts: list[str] | None = None
        self.heading: str | None = None
        self.link_href: str | None = None
        self.link_parts: list[str] = []
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and self.title is None:
            self.title_parts = []
        if tag in _SKIP and tag not in _VOID:
            self.skip_depth += 1
            return
        self._break(tag)
        if tag == "li":
            self.parts.append("- ")
        elif tag in {"td", "th"}:
            self.parts.append("\t")
        elif tag == "pre":
            self.pre_depth += 1
        elif tag in _HEADINGS and self.heading is None:
            self.heading_parts = []
        elif tag == "a":
            self.link_href = dict(attrs).get("href")
            self.link_parts = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/> and friends: a block break, never an unclosed skip region.
        self._break(tag)

    def _break(self, tag: str) -> None:
        if tag in _PARAGRAPH:
            self.parts.append(_PARA)
        elif tag in _BLOCK:
            self.parts.append(_LINE)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.title_parts is not None:
            self.title = _clean_inline("".join(self.title_parts)) or None
            self.title_parts = None
        if tag in _SKIP and tag not in _VOID:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        self._break(tag)
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        elif tag in _HEADINGS and self.heading_parts is not None:
            self.heading = _clean_inline("".join(self.heading_parts)) or None
            self.heading_parts = None
        elif tag == "a" and self.link_href is not None:
            self.links.append((self.link_href, _clean_inline("".join(self.link_parts))))
            self.link_href = None

    def handle_data(self, data: str) -> None:
        if self.title_parts is not None:
            self.title_parts.append(data)
        if self.skip_depth:
            return
        if self.heading_parts is not None:
            self.heading_parts.append(data)
        if self.link_href is not None:
            self.link_parts.append(data)
        if self.pre_depth:
            self.parts.append(data.replace("\n", _PRE_NEWLINE))  # protect pre line breaks
        else:
            self.parts.append(_SPACES.sub(" ", data))


def _clean_inline(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def parse_html(html: str) -> HtmlText:
    """Convert ``html`` to text and collect its title, first heading and links."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    raw = "".join(extractor.parts)
    text = _BREAKS.sub(lambda m: "\n\n" if _PARA in m.group() else "\n", raw)
    text = text.replace(_PRE_NEWLINE, "\n").strip()
    return HtmlText(
        text=text, title=extractor.title, heading=extractor.heading, links=extractor.links
    )


def html_to_text(html: str) -> str:
    """Just the readable text of ``html``."""
    return parse_html(html).text
