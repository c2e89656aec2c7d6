"""Rows for the hygiene tests, shaped like dataset rows (the filters read only a few fields)."""

from __future__ import annotations

HAS_CLOSE_ELEMENTS = {
    "id": "cf-close",
    "title": "Close elements",
    "description": (
        "Check if in given list of numbers, are any two numbers closer to each other than "
        "given threshold."
    ),
    "entry_point": "has_close_elements",
    "signature": "def has_close_elements(numbers: list[float], threshold: float) -> bool",
    "solution": (
        "def has_close_elements(numbers, threshold):\n"
        "    for idx, elem in enumerate(numbers):\n"
        "        for idx2, elem2 in enumerate(numbers):\n"
        "            if idx != idx2:\n"
        "                distance = abs(elem - elem2)\n"
        "                if distance < threshold:\n"
        "                    return True\n"
        "    return False\n"
    ),
    "tests": "from solution import has_close_elements\n\ndef test_basic():\n    assert has_close_elements([1.0, 2.8, 3.0], 0.3)\n",
    "topic": "arrays",
    "difficulty": "easy",
}

RUN_LENGTH = {
    "id": "cf-rle",
    "title": "Run-length encoding",
    "description": (
        "Compress a string with run-length encoding: every maximal run of one repeated "
        "character becomes the character followed by the length of the run. An empty string "
        "encodes to an empty string."
    ),
    "entry_point": "run_length_encode",
    "signature": "def run_length_encode(text: str) -> str",
    "solution": (
        "def run_length_encode(text: str) -> str:\n"
        '    """Encode runs of equal characters as char + count."""\n'
        "    if not text:\n"
        '        return ""\n'
        "    parts = []\n"
        "    current, count = text[0], 1\n"
        "    for char in text[1:]:\n"
        "        if char == current:\n"
        "            count += 1\n"
        "        else:\n"
        '            parts.append(f"{current}{count}")\n'
        "            current, count = char, 1\n"
        '    parts.append(f"{current}{count}")\n'
        '    return "".join(parts)\n'
    ),
    "tests": 'from solution import run_length_encode\n\ndef test_runs():\n    assert run_length_encode("aaab") == "a3b1"\n',
    "topic": "strings",
    "difficulty": "easy",
}

MERGE_INTERVALS = {
    "id": "cf-intervals",
    "title": "Merge overlapping intervals",
    "description": (
        "Given a list of closed intervals as (start, end) pairs in any order, merge every "
        "group of overlapping or touching intervals and return the merged intervals sorted by "
        "their start."
    ),
    "entry_point": "merge_intervals",
    "signature": "def merge_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]",
    "solution": (
        "def merge_intervals(intervals):\n"
        "    merged = []\n"
        "    for start, end in sorted(intervals):\n"
        "        if merged and start <= merged[-1][1]:\n"
        "            merged[-1] = (merged[-1][0], max(merged[-1][1], end))\n"
        "        else:\n"
        "            merged.append((start, end))\n"
        "    return merged\n"
    ),
    "tests": "from solution import merge_intervals\n\ndef test_merge():\n    assert merge_intervals([(1, 3), (2, 4)]) == [(1, 4)]\n",
    "topic": "algorithms",
    "difficulty": "medium",
}

BALANCED_BRACKETS = {
    "id": "cf-brackets",
    "title": "Balanced brackets of three kinds",
    "description": (
        "Decide whether a string made of the characters ()[]{} is balanced: every opening "
        "bracket is closed by the matching kind in the right order. Other characters are "
        "not allowed and make the answer False."
    ),
    "entry_point": "is_balanced",
    "signature": "def is_balanced(text: str) -> bool",
    "solution": (
        "PAIRS = {')': '(', ']': '[', '}': '{'}\n\n\n"
        "def is_balanced(text):\n"
        "    stack = []\n"
        "    for char in text:\n"
        "        if char in '([{':\n"
        "            stack.append(char)\n"
        "        elif char in PAIRS:\n"
        "            if not stack or stack.pop() != PAIRS[char]:\n"
        "                return False\n"
        "        else:\n"
        "            return False\n"
        "    return not stack\n"
    ),
    "tests": "from solution import is_balanced\n\ndef test_ok():\n    assert is_balanced('([]{})')\n",
    "topic": "data structures",
    "difficulty": "medium",
}

UNRELATED = [RUN_LENGTH, MERGE_INTERVALS, BALANCED_BRACKETS]


def variant(row: dict, **changes: str) -> dict:
    return {**row, **changes}
