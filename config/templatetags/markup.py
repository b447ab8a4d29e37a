"""Rendering text that a model or a user wrote: escaped, or Markdown through a sanitiser.

    {% load markup %}
    {{ contribution.text|markdown }}      Markdown -> HTML, then nh3 keeps only safe tags
    {{ chunk.text|highlight:words }}      escaped text with the given words in <mark>

Never `|safe` on such text: these filters are the one place it becomes markup.
"""

from __future__ import annotations

import re

import markdown as markdown_lib
import nh3
from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "hr", "sup", "sub",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def sanitise_markdown(text: str) -> str:
    """Markdown to HTML with no script, no event handler, no style and no raw HTML left."""
    html = markdown_lib.markdown(text or "", extensions=["tables", "sane_lists"])
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")


@register.filter
def markdown(text: str):
    return mark_safe(sanitise_markdown(text))  # nh3 output: only the tags above


def highlight_words(text: str, words) -> str:
    """Escape `text`, then wrap each of `words` (whole words, any case) in <mark>."""
    escaped = escape(text or "")
    terms = sorted({w for w in (words or []) if w and len(w) > 1}, key=len, reverse=True)
    if not terms:
        return escaped
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(escape(t)) for t in terms) + r")(?!\w)", re.IGNORECASE)
    return pattern.sub(r"<mark>\1</mark>", escaped)


@register.filter
def highlight(text: str, words):
    if isinstance(words, str):
        words = words.split()
    return mark_safe(highlight_words(text, words))  # escaped first; only <mark> added
