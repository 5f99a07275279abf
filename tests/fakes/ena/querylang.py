"""The fake ENA's query language: a tokenizer, a recursive-descent parser and a compiler.

Grammar (what ENA's Portal API accepts, as far as the platform uses it)::

    query      := or_expr
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := not_expr ("AND" not_expr)*
    not_expr   := "NOT" not_expr | primary
    primary    := "(" or_expr ")" | ("tax_tree" | "tax_eq") "(" INTEGER ")"
                | FIELD OP value
    OP         := "=" | "!=" | ">=" | "<=" | ">" | "<"
    value      := '"' any-but-quote '"' | bare-word

A whole query wrapped in double quotes is unwrapped first (clients send that too). Keywords are
case-insensitive. ``=`` on a ``;``-joined field matches any of its values; ``*`` in a value is a
wildcard. Dates compare as ``YYYY-MM-DD`` text, numbers as numbers; an empty value never
satisfies a comparison.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tests.fakes.ena.schema import FIELD_TYPES, FieldType, tax_descendants

Record = Mapping[str, str]
Predicate = Callable[[Record], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) |
        (?P<op>>=|<=|!=|=|>|<) |
        (?P<string>"[^"]*") |
        (?P<word>[^\s()"=<>!]+)
    )""",
    re.VERBOSE,
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_KEYWORDS = {"AND", "OR", "NOT"}
_TAX_FUNCTIONS = {"tax_tree", "tax_eq"}


class QuerySyntaxError(ValueError):
    """The query is not valid; the message is what the fake answers in its 400."""


class InvalidColumnError(QuerySyntaxError):
    """A field the result does not have (ENA: "Invalid column (x) has been provided in query")."""

    def __init__(self, column: str) -> None:
        super().__init__(f"Invalid column ({column}) has been provided in query")
        self.column = column


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


def tokenize(query: str) -> list[Token]:
    """Split a query into tokens.

    :raises QuerySyntaxError: at the first character no token starts with.
    """
    tokens: list[Token] = []
    position = 0
    while position < len(query):
        if query[position:].strip() == "":
            break
        match = _TOKEN.match(query, position)
        if match is None or match.lastgroup is None:
            raise QuerySyntaxError(f"Invalid query: unexpected {query[position:].strip()[:20]!r}")
        text = match.group(match.lastgroup)
        tokens.append(Token(match.lastgroup, text, match.start(match.lastgroup)))
        position = match.end()
    return tokens


# -- syntax tree --------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    value: str


@dataclass(frozen=True)
class TaxCondition:
    function: str
    tax_id: int


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class BoolOp:
    operator: str  # "AND" or "OR"
    operands: tuple[Node, ...]


Node = Condition | TaxCondition | Not | BoolOp


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("Invalid query: unexpected end of query")
        self.index += 1
        return token

    def expect(self, kind: str) -> Token:
        token = self.take()
        if token.kind != kind:
            raise QuerySyntaxError(f"Invalid query: expected {kind} at {token.text!r}")
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.upper() == word:
            self.index += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() is not None:
            raise QuerySyntaxError(f"Invalid query: unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return node

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.keyword("OR"):
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else BoolOp("OR", tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.not_expr()]
        while self.keyword("AND"):
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else BoolOp("AND", tuple(operands))

    def not_expr(self) -> Node:
        if self.keyword("NOT"):
            return Not(self.not_expr())
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "lparen":
            node = self.or_expr()
            self.expect("rparen")
            return node
        if token.kind != "word" or token.text.upper() in _KEYWORDS:
            raise QuerySyntaxError(f"Invalid query: unexpected {token.text!r}")
        following = self.peek()
        if (
            token.text.lower() in _TAX_FUNCTIONS
            and following is not None
            and following.kind == "lparen"
        ):
            self.take()
            number = self.take()
            if number.kind not in {"word", "string"} or not number.text.strip('"').isdigit():
                raise QuerySyntaxError(f"Invalid query: {token.text} needs a taxon id")
            self.expect("rparen")
            return TaxCondition(token.text.lower(), int(number.text.strip('"')))
        operator = self.expect("op")
        value = self.take()
        if value.kind == "string":
            return Condition(token.text, operator.text, value.text[1:-1])
        if value.kind == "word" and value.text.upper() not in _KEYWORDS:
            return Condition(token.text, operator.text, value.text)
        raise QuerySyntaxError(f"Invalid query: missing value after {token.text}{operator.text}")


def parse_query(query: str) -> Node:
    """Parse ``query`` (unwrapping one pair of enclosing double quotes if the result parses).

    :raises QuerySyntaxError: for anything the grammar does not accept.
    """
    text = query.strip()
    if not text:
        raise QuerySyntaxError("Invalid query: empty")
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        try:
            return _Parser(tokenize(text[1:-1])).parse()
        except QuerySyntaxError:
            pass  # not a wrapped query after all, e.g. a lone quoted value: parse as is
    return _Parser(tokenize(text)).parse()


# -- compilation to a predicate ------------------------------------------------------------


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


_COMPARE: dict[str, Callable[[object, object], bool]] = {
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    "<": lambda a, b: a < b,  # type: ignore[operator]
}


def _compile_condition(node: Condition, fields: frozenset[str]) -> Predicate:
    name, operator, value = node.field, node.operator, node.value
    if name not in fields:
        raise InvalidColumnError(name)
    field_type = FIELD_TYPES.get(name, FieldType.TEXT)
    if operator in ("=", "!="):
        if "*" in value:
            pattern = re.compile(".*".join(re.escape(part) for part in value.split("*")))

            def matches(record: Record) -> bool:
                return any(pattern.fullmatch(part) for part in record.get(name, "").split(";"))
        elif field_type is FieldType.NUMBER and _number(value) is not None:
            wanted = _number(value)

            def matches(record: Record) -> bool:
                return any(
                    _number(part) == wanted for part in record.get(name, "").split(";") if part
                )
        else:

            def matches(record: Record) -> bool:
                text = record.get(name, "")
                return text == value or (";" in text and value in text.split(";"))

        if operator == "=":
            return matches
        return lambda record: not matches(record)
    compare = _COMPARE[operator]
    if field_type is FieldType.DATE:
        if not _DATE.fullmatch(value):
            raise QuerySyntaxError(f"Invalid date value ({value}) for {name}: use YYYY-MM-DD")

        def date_matches(record: Record) -> bool:
            text = record.get(name, "")
            return bool(text) and compare(text[:10], value)

        return date_matches
    if field_type is FieldType.NUMBER:
        wanted = _number(value)
        if wanted is None:
            raise QuerySyntaxError(f"Invalid numeric value ({value}) for {name}")

        def number_matches(record: Record) -> bool:
            found = _number(record.get(name, "") or "x")
            return found is not None and compare(found, wanted)

        return number_matches
    raise QuerySyntaxError(f"Invalid operator {operator} for text field {name}")


def compile_query(node: Node, fields: frozenset[str]) -> Predicate:
    """A predicate over records (dicts of ENA strings) for a parsed query.

    :param fields: the fields of the result searched; any other field is an
        :class:`InvalidColumnError`.
    """
    match node:
        case Condition():
            return _compile_condition(node, fields)
        case TaxCondition(function="tax_tree", tax_id=tax_id):
            wanted = {str(taxon) for taxon in tax_descendants(tax_id)}
            return lambda record: record.get("tax_id", "") in wanted
        case TaxCondition(tax_id=tax_id):
            exact = str(tax_id)
            return lambda record: record.get("tax_id", "") == exact
        case Not(operand=operand):
            inner = compile_query(operand, fields)
            return lambda record: not inner(record)
        case BoolOp(operator="AND", operands=operands):
            parts = [compile_query(operand, fields) for operand in operands]
            return lambda record: all(part(record) for part in parts)
        case BoolOp(operands=operands):
            parts = [compile_query(operand, fields) for operand in operands]
            return lambda record: any(part(record) for part in parts)
    raise QuerySyntaxError(f"Invalid query node {node!r}")  # pragma: no cover
