#!/usr/bin/env python3
"""Finds tests that cannot fail, run by `make test` before the suite:

* an assertion on `x ?? V == V` (or `?? true` in XCTAssertTrue, `?? false` in XCTAssertFalse):
  when x is missing the default makes it pass, so it asserts nothing about x;
* a `func test…` whose body never asserts: no XCTAssert/XCTFail/XCTUnwrap/XCTExpect, directly or
  through a helper of the test sources that does (followed through calls to a fixpoint).

    python3 scripts/check-tests.py [Tests/]

Prints each finding as file:line: what, and exits 1 if there is any.
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "Tests")
files = sorted(root.rglob("*.swift"))
findings = []

ASSERT = re.compile(r"\bXCT(Assert\w*|Fail|Unwrap|Expect\w*)\b")
DEFAULT_EQUAL = re.compile(r"\?\?\s*([\w.]+)\s*==\s*([\w.]+)")
DEFAULT_BOOL = re.compile(r"XCTAssert(True|False)\s*\((?:[^()]|\([^()]*\))*\?\?\s*(true|false)\b")
FUNC = re.compile(r"\bfunc\s+(\w+)\s*(?:<[^>]*>)?\s*\(")


def bodies(text):
    """(name, line, body) of every function, the body found by brace matching."""
    out = []
    for match in FUNC.finditer(text):
        brace = text.find("{", match.end())
        if brace < 0:
            continue
        # A protocol requirement or a declaration without a body ends before its brace.
        between = text[match.end():brace]
        if "\n\n" in between or "func " in between:
            continue
        # Braces inside string literals and comments do not count.
        depth, i = 0, brace
        while i < len(text):
            if text.startswith('"""', i):
                end = text.find('"""', i + 3)
                i = len(text) if end < 0 else end + 3
                continue
            c = text[i]
            if c == '"':
                i += 1
                while i < len(text) and text[i] not in '"\n':
                    i += 2 if text[i] == "\\" else 1
            elif text.startswith("//", i):
                i = text.find("\n", i)
                if i < 0:
                    break
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        out.append((match.group(1), text.count("\n", 0, match.start()) + 1, text[brace:i + 1]))
    return out


functions = []
for path in files:
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if stripped.startswith("//"):
            continue
        for m in DEFAULT_EQUAL.finditer(line):
            if m.group(1) == m.group(2):
                findings.append(f"{path}:{number}: `?? {m.group(1)} == {m.group(2)}` passes whenever the value is missing")
        for m in DEFAULT_BOOL.finditer(line):
            if (m.group(1) == "True") == (m.group(2) == "true"):
                findings.append(f"{path}:{number}: XCTAssert{m.group(1)} of `?? {m.group(2)}` passes whenever the value is missing")
    functions += [(path, name, line, body) for name, line, body in bodies(text)]

asserting = {name for _, name, _, body in functions if ASSERT.search(body)}
changed = True
while changed:
    changed = False
    for _, name, _, body in functions:
        if name not in asserting and any(re.search(r"\b" + re.escape(other) + r"\s*[(<{]", body) for other in asserting):
            asserting.add(name)
            changed = True
for path, name, line, body in functions:
    if name.startswith("test") and name not in asserting:
        findings.append(f"{path}:{line}: {name} never asserts (no XCTAssert, XCTFail or XCTUnwrap, nor a helper that does)")

for finding in findings:
    print(finding)
print(f"check-tests: {len(functions)} functions in {len(files)} files, {len(findings)} test(s) that cannot fail")
sys.exit(1 if findings else 0)
