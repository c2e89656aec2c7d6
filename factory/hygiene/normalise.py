"""Normalised forms of code and text, the common ground of dedup and decontamination.

Two programs that differ only in names, comments, docstrings, type annotations or layout are
the same training sample. To see that, code is parsed, stripped of docstrings, annotations and
``typing``/``__future__`` imports, printed back by ``ast.unparse`` (which fixes layout, quotes
and redundant parentheses), then tokenised; every name the code binds itself (variables,
parameters, functions, ``as`` aliases) is replaced by ``v0``, ``v1``, ... in order of first
appearance, while the names it takes from outside (builtins, imported modules, methods of
other objects) stay, since they are what the code does. Renaming keeps the
binding structure (``a + a`` stays different from ``a + b``), which a single placeholder for
all names would lose.

Code that does not parse (rare: rows passed the sandbox, benchmarks are valid Python) falls
back to the raw token stream without comments, and then to whitespace-collapsed text.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import re
import tokenize
import warnings

KEYWORDS = frozenset(keyword.kwlist)
BUILTIN_NAMES = frozenset(dir(builtins))
SKIPPED_TOKENS = frozenset(
    {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
        tokenize.ENCODING,
    }
)
STRUCTURE_MARKS = {tokenize.NEWLINE: "⏎", tokenize.INDENT: "→", tokenize.DEDENT: "←"}
WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lowercased alphanumeric words: punctuation, case and spacing do not tell texts apart."""
    return WORD.findall(text.lower())


def normalised_code(source: str) -> str:
    """The whole module in normalised form (names numbered, no comments or docstrings)."""
    tree = _parse(source)
    if tree is None:
        tokens = _raw_tokens(source)
        return " ".join(_rename(tokens, _renameable(tokens, None)))
    return _normalise_tree(tree)


def normalised_functions(source: str) -> dict[str, str]:
    """Each top-level function's normalised form on its own, keyed by the function's name.

    Names are numbered per function, so a function compares equal to a renamed copy of it
    whatever else the two modules contain.
    """
    tree = _parse(source)
    if tree is None:
        return {}
    return {
        node.name: _normalise_tree(ast.Module(body=[node], type_ignores=[]))
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def code_tokens(source: str) -> list[str]:
    """The token stream of the stripped code, names kept, layout-free."""
    tree = _parse(source)
    return _raw_tokens(ast.unparse(tree) if tree is not None else source)


def code_ngrams(source: str, n: int) -> set[tuple[str, ...]]:
    """Distinct windows of ``n`` consecutive tokens of the stripped code, names kept."""
    tokens = code_tokens(source)
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def defined_functions(source: str) -> list[str]:
    """Names of the top-level functions a module defines, in order."""
    tree = _parse(source)
    if tree is None:
        return []
    return [
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def docstring_of(source: str, function: str | None = None) -> str | None:
    """The docstring of ``function`` (or of the module, or of its last function)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for node in functions:
        if node.name == function:
            return ast.get_docstring(node)
    if ast.get_docstring(tree):
        return ast.get_docstring(tree)
    return ast.get_docstring(functions[-1]) if functions else None


def _parse(source: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in old benchmark code
            tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    return _Stripper().visit(tree)


def _normalise_tree(tree: ast.Module) -> str:
    tokens = _raw_tokens(ast.unparse(tree), structure=True)
    return " ".join(_rename(tokens, _renameable(tokens, _bound_names(tree))))


def _raw_tokens(source: str, *, structure: bool = False) -> list[str]:
    fast = _plain_tokens(source, structure)
    if fast is not None:
        return fast
    tokens: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if structure and token.type in STRUCTURE_MARKS:
                tokens.append(STRUCTURE_MARKS[token.type])
            elif token.type not in SKIPPED_TOKENS:
                tokens.append(token.string)
    except (tokenize.TokenError, SyntaxError) as exc:
        # keep what was tokenised, and the rest of the text from the failing line on
        line = exc.args[1][0] if isinstance(exc, tokenize.TokenError) else exc.lineno
        tokens.extend(" ".join(source.splitlines()[(line or 1) :]).split())
    return tokens


# tokenize's own token pattern, with a triple-quoted string that closes on its line tried
# first (what tokenize does after it sees the opening quotes).
_LINE_TOKEN = re.compile(
    tokenize.Whitespace
    + tokenize.group(
        tokenize.StringPrefix + "'''" + tokenize.Single3,
        tokenize.StringPrefix + '"""' + tokenize.Double3,
        tokenize.PseudoExtras,
        tokenize.Number,
        tokenize.Funny,
        tokenize.ContStr,
        tokenize.Name,
    )
)
_NOT_PLAIN = re.compile(r"[\r\t\f]")


def _plain_tokens(source: str, structure: bool) -> list[str] | None:
    """The same tokens as ``tokenize`` (``_raw_tokens``' loop) for plain code, about five
    times faster (0.27 against 1.37 ms for a benchmark solution); None for anything else,
    which ``tokenize`` then handles.

    Plain is what ``ast.unparse`` writes: one statement a line, indented by spaces, no
    comments, no bracket, string or backslash continued onto the next line, no tab, form feed
    or carriage return. Each line is matched with tokenize's own pattern and indentation is
    counted as tokenize counts it; any line that does not match from start to end, or leaves
    a bracket open, gives up rather than guess.
    """
    if _NOT_PLAIN.search(source):
        return None
    tokens: list[str] = []
    indents = [0]
    lines = source.split("\n")
    for number, line in enumerate(lines):
        content = line.lstrip(" ")
        if not content:
            if line and number == len(lines) - 1:
                return None  # tokenize treats a last line of spaces apart
            continue
        if content[0] == "#":
            return None
        column = len(line) - len(content)
        if column > indents[-1]:
            indents.append(column)
            if structure:
                tokens.append(STRUCTURE_MARKS[tokenize.INDENT])
        while column < indents[-1]:
            if column not in indents:
                return None
            indents.pop()
            if structure:
                tokens.append(STRUCTURE_MARKS[tokenize.DEDENT])
        depth, end = 0, column
        for match in _LINE_TOKEN.finditer(line, column):
            if match.start() != end:
                return None
            end = match.end()
            token = match.group(1)
            if not token:
                continue
            if token[0] in "#\\" or token in tokenize.triple_quoted:
                return None  # a comment, a continued line, a string left open
            if token in _OPENING:
                depth += 1
            elif token in _CLOSING:
                depth -= 1
            tokens.append(token)
        if end != len(line) or depth:
            return None
        if structure:
            tokens.append(STRUCTURE_MARKS[tokenize.NEWLINE])
    if structure:
        tokens.extend(STRUCTURE_MARKS[tokenize.DEDENT] for _ in indents[1:])
    return tokens


_OPENING = frozenset("([{")
_CLOSING = frozenset(")]}")


def _renameable(tokens: list[str], bound: set[str] | None) -> list[bool]:
    """Which tokens are names the author chose: those the code itself binds.

    Free names are an API the code uses and stay: builtins (unless rebound: a parameter
    called ``list`` is the author's name), imported modules and names (unless aliased with
    ``as``), attributes of other objects (``heapq.nlargest`` is not ``heapq.nsmallest``),
    keyword arguments. Without a syntax tree (``bound`` is None) every identifier that is not
    a keyword or builtin counts as chosen.
    """
    if bound is None:
        return [t.isidentifier() and t not in KEYWORDS and t not in BUILTIN_NAMES for t in tokens]
    return [t in bound and t not in KEYWORDS for t in tokens]


def _rename(tokens: list[str], renameable: list[bool]) -> list[str]:
    numbers: dict[str, str] = {}
    return [
        numbers.setdefault(token, f"v{len(numbers)}") if rename else token
        for token, rename in zip(tokens, renameable, strict=True)
    ]


def _bound_names(tree: ast.AST) -> set[str]:
    """Names the code binds: assignment and loop targets, parameters, functions, classes,
    ``as`` aliases, exception and pattern captures, attributes it assigns."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
            bound.add(node.attr)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.alias) and node.asname:
            bound.add(node.asname)
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
    return bound


class _Stripper(ast.NodeTransformer):
    """Drops what does not change behaviour: docstrings, annotations, typing imports."""

    def _strip_docstring(self, node):
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body = body[1:]
        node.body = body or [ast.Pass()]
        return node

    def visit_Module(self, node: ast.Module):
        self.generic_visit(node)
        node.body = [
            stmt
            for stmt in self._strip_docstring(node).body
            if not isinstance(stmt, ast.Pass)
            and not (isinstance(stmt, ast.ImportFrom) and stmt.module in ("typing", "__future__"))
            and not (isinstance(stmt, ast.Import) and all(a.name == "typing" for a in stmt.names))
        ]
        return node

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        node.returns = None
        return self._strip_docstring(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef):
        self.generic_visit(node)
        return self._strip_docstring(node)

    def visit_arg(self, node: ast.arg):
        node.annotation = None
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr):
        """An f-string becomes a call of its parts, so the names inside it are renamed too
        (the tokenizer sees a whole f-string as one string token)."""
        self.generic_visit(node)
        parts: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                parts.append(value.value)
                if value.conversion != -1:
                    parts.append(ast.Constant(f"!{chr(value.conversion)}"))
                if value.format_spec is not None:
                    parts.append(value.format_spec)
            else:
                parts.append(value)
        return ast.Call(func=ast.Name("__fstring__", ast.Load()), args=parts, keywords=[])

    def visit_AnnAssign(self, node: ast.AnnAssign):
        if node.value is None:
            return None
        return ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)
