"""A strict reading of a rendered page, shared by the presenter and command-line tests."""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["StrictPage", "assert_self_contained", "parse"]

VOID = {"meta", "input", "col", "br"}
ALLOWED = VOID | {
    "html", "head", "title", "style", "body", "header", "h1", "h2", "p", "nav", "button",
    "label", "section", "div", "dl", "dt", "dd", "span", "main", "details", "summary", "table",
    "colgroup", "thead", "tbody", "tr", "td", "th", "footer", "code", "ul", "li",
}  # fmt: skip
#: attributes that could load or link to something
FETCHING = {"src", "href", "srcset", "action", "formaction", "poster", "data", "background"}


class StrictPage(HTMLParser):
    """Records what the page holds; any unbalanced or unexpected markup is an error."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.style: list[str] = []
        self.doctype: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ALLOWED:
            self.errors.append(f"unexpected <{tag}>")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        (self.style if self.stack[-1:] == ["style"] else self.text).append(data)

    def handle_comment(self, data: str) -> None:
        self.errors.append("comment")

    def handle_pi(self, data: str) -> None:
        self.errors.append("processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.errors.append(f"declaration {data!r}")


def parse(page: str) -> StrictPage:
    parser = StrictPage()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    assert parser.doctype is not None and parser.doctype.lower() == "doctype html"
    return parser


def assert_self_contained(parser: StrictPage) -> None:
    handlers = 0
    for tag, attrs in parser.tags:
        assert tag not in {"script", "link", "img", "iframe", "object", "embed", "base"}
        assert not FETCHING & set(attrs), (tag, attrs)
        for name, value in attrs.items():
            assert "http" not in (value or "").lower(), (tag, name, value)
            if name.startswith("on"):
                handlers += 1
                assert len(value or "") < 100
    assert handlers <= 3  # expand, collapse, hide inconsequential
    style = "".join(parser.style).lower()
    assert "url(" not in style and "@import" not in style and "@font-face" not in style
