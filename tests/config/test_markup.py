"""What a model or a user wrote reaches a page as text or sanitised Markdown, never as markup."""

from django.template import Context, Template

from config.templatetags.markup import highlight_words, sanitise_markdown


def render(source: str, **context) -> str:
    return Template("{% load markup %}" + source).render(Context(context))


def test_markdown_keeps_formatting():
    html = sanitise_markdown("**De Novo** is the route:\n\n- no predicate\n- low risk")
    assert "<strong>De Novo</strong>" in html
    assert html.count("<li>") == 2


def test_markdown_drops_scripts_handlers_and_script_links():
    html = render("{{ text|markdown }}", text=(
        "Fine <script>alert(1)</script> <img src=x onerror=alert(2)> "
        "<a href=\"javascript:alert(3)\">x</a> <div style=\"position:fixed\">y</div>"))
    assert "<script" not in html and "alert(1)" not in html
    assert "onerror" not in html and "<img" not in html
    assert "javascript:" not in html
    assert "style=" not in html
    assert "Fine" in html


def test_links_keep_http_and_get_rel():
    html = sanitise_markdown("[FDA](https://www.fda.gov/)")
    assert 'href="https://www.fda.gov/"' in html
    assert "noopener" in html


def test_highlight_escapes_the_text_and_marks_only_the_words():
    html = render("{{ text|highlight:words }}", text="<b>De Novo</b> when no predicate exists", words="novo predicate")
    assert html == "&lt;b&gt;De <mark>Novo</mark>&lt;/b&gt; when no <mark>predicate</mark> exists"


def test_highlight_words_cannot_inject_markup():
    assert highlight_words("a <script> b", ["<script>"]) == "a <mark>&lt;script&gt;</mark> b"
    assert "<script>" not in highlight_words("x", ["<script>"])
