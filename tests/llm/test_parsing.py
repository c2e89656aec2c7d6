"""parse_json_reply and extract_code on the reply shapes models actually produce."""

from __future__ import annotations

import pytest

from factory.llm.parsing import extract_code, parse_json_reply

FENCE = "```"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"code": "x = 1"}', {"code": "x = 1"}),
        ('  \n{"a": 1, "b": [1, 2]}\n ', {"a": 1, "b": [1, 2]}),
        (f'{FENCE}json\n{{"title": "Sum"}}\n{FENCE}', {"title": "Sum"}),
        (f'Sure!\n{FENCE}JSON\n{{"title": "Sum"}}\n{FENCE}\nHope it helps.', {"title": "Sum"}),
        (f'{FENCE}\n{{"title": "bare fence"}}\n{FENCE}', {"title": "bare fence"}),
        (
            f'{FENCE}python\nprint(1)\n{FENCE}\n{FENCE}json\n{{"k": 2}}\n{FENCE}',
            {"k": 2},
        ),
        ('Here is the problem: {"title": "T", "n": 3} as requested.', {"title": "T", "n": 3}),
        (
            'Answer: {"code": "def f():\\n    return {\'a\': \\"}\\"}", "x": {"y": "{"}} done',
            {"code": "def f():\n    return {'a': \"}\"}", "x": {"y": "{"}},
        ),
        ('prose with {braces} first, then {"ok": true}', {"ok": True}),
        ('{"code": "line one\nline two"}', {"code": "line one\nline two"}),  # raw newline
        ('\ufeff{"bom": 1}', {"bom": 1}),
    ],
    ids=[
        "raw",
        "raw-whitespace",
        "json-fence",
        "json-fence-prose",
        "bare-fence",
        "json-fence-after-python",
        "prose-around",
        "braces-in-strings",
        "non-json-braces-first",
        "raw-newline-in-string",
        "bom",
    ],
)
def test_parse_json_reply_finds_the_object(reply, expected):
    assert parse_json_reply(reply) == expected


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ('{"title": "Sum", "description": "add two num', "truncated"),
        (f'{FENCE}json\n{{"title": "Sum", "code": "def f(', "truncated"),
        ('Sure: {"a": {"b": 1}', "truncated"),
        ("[1, 2, 3]", "not an object"),
        ("I cannot help with that.", "no JSON object"),
        ("{not: json}", "no JSON object"),
        ('{"a": {"b": 1}, oops}', "no JSON object"),
    ],
)
def test_parse_json_reply_says_why_it_failed(reply, reason):
    with pytest.raises(ValueError, match=reason):
        parse_json_reply(reply)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (f"{FENCE}python\ndef f():\n    return 1\n{FENCE}", "def f():\n    return 1"),
        (f"{FENCE}py\nx = 1\n{FENCE}", "x = 1"),
        (f"Here is the code:\n\n{FENCE}\nx = 2\n{FENCE}\nDone.", "x = 2"),
        ("def f():\n    return 3\n\n", "def f():\n    return 3"),
        ("  x = 4  ", "x = 4"),
        (
            f"{FENCE}\nshort = 1\n{FENCE}\n{FENCE}python\nx = 5\n{FENCE}",
            "x = 5",
        ),
        (
            f"{FENCE}python\nimport a\n{FENCE}\ntext\n{FENCE}python\ndef g():\n    pass\n{FENCE}",
            "def g():\n    pass",
        ),
        (f"{FENCE}bash\npip install x\n{FENCE}\n{FENCE}\ny = 6\n{FENCE}", "y = 6"),
        (f"{FENCE}python\ndef h():\n    return 7", "def h():\n    return 7"),
        (f"  {FENCE}python\n  def k():\n      return 8\n  {FENCE}", "def k():\n    return 8"),
        (
            f'{FENCE}python\ns = """\n{FENCE}  not a closing fence inside text"""\n{FENCE}',
            's = """\n```  not a closing fence inside text"""',
        ),
    ],
    ids=[
        "python-fence",
        "py-fence",
        "bare-fence-with-prose",
        "no-fence",
        "no-fence-whitespace",
        "python-beats-bare",
        "longest-python",
        "bare-beats-other-language",
        "unclosed-fence",
        "indented-fence",
        "fence-with-text-does-not-close",
    ],
)
def test_extract_code(reply, expected):
    assert extract_code(reply) == expected
