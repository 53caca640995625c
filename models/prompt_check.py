"""Checking a pack's prompt template before it is trusted: a template is code, and a pack can come from anywhere.

Only the constructs a translation prompt needs are allowed: text, ``{{ variable }}`` output of the documented
variables (with their attributes and items, filters ``trim`` and ``default``), ``{% if %}`` and ``{% for %}`` over
``context`` (``loop.first`` / ``loop.last``). No calls (so no ``range``), no arithmetic (so no ``'A' * 300000000``),
no macros, imports or assignments. Loops are counted before anything runs: the body executions of all loops
together, nested ones multiplied out, must stay under MAX_LOOP_ITERATIONS (five nested loops over literal lists
of 40 fit in 1,150 characters and would run 10^8 times). The template is then rendered once with test values,
streamed and stopped as soon as its output is over MAX_RENDERED_CHARS. Anything else is ``PACK-MANIFEST`` at
install and at load, never a traceback or a hang.
"""
from __future__ import annotations

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tolk.models.errors import ManifestError

MAX_TEMPLATE_CHARS = 16_000
MAX_RENDERED_CHARS = 64_000  # with the test values below; a real prompt is a few hundred characters
# Body executions of all loops together. A real prompt loops once over the context (0-2 earlier turns today) and
# perhaps over a short literal list inside it; 1,000 leaves room for that and runs in well under a second.
MAX_LOOP_ITERATIONS = 1_000
MAX_CONTEXT_ITEMS = 16  # counted for a loop over `context` or `messages` (InterpreterConfig.context_turns is 0-2)
VARIABLES = frozenset({"source", "target", "source_native", "target_native", "text", "context", "pair", "loop",
                       "message", "messages", "bos_token", "eos_token"})
FILTERS = frozenset({"trim", "default"})
_ALLOWED = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Getattr, nodes.Getitem,
            nodes.Const, nodes.If, nodes.For, nodes.Filter, nodes.Compare, nodes.Operand, nodes.Not, nodes.And,
            nodes.Or, nodes.Test, nodes.Tuple, nodes.List, nodes.Dict, nodes.Pair, nodes.Assign)
_LITERALS = (nodes.Const, nodes.List, nodes.Dict, nodes.Pair, nodes.Tuple)


def environment() -> ImmutableSandboxedEnvironment:
    """The environment pack prompts are rendered with (by the check here and by the translator)."""
    return ImmutableSandboxedEnvironment(keep_trailing_newline=True)


def _check_node(node: nodes.Node, names: set[str]) -> None:
    where = f"(line {getattr(node, 'lineno', '?')})"
    if not isinstance(node, _ALLOWED):
        raise ManifestError(f"prompt.template uses {type(node).__name__}, which prompts may not {where}")
    if isinstance(node, nodes.Name) and node.name not in names:
        raise ManifestError(f"prompt.template uses an unknown variable '{node.name}' {where}")
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        raise ManifestError(f"prompt.template reads the private attribute '{node.attr}' {where}")
    if isinstance(node, nodes.Filter) and node.name not in FILTERS:
        raise ManifestError(f"prompt.template uses the filter '{node.name}' {where}")
    if isinstance(node, nodes.Assign) and not (isinstance(node.target, nodes.Name)
                                               and all(isinstance(n, _LITERALS) for n in node.node.find_all(nodes.Expr))
                                               and isinstance(node.node, _LITERALS)):
        raise ManifestError(f"prompt.template may only `set` a name to a literal table {where}")
    literal_list = isinstance(node, nodes.For) and isinstance(node.iter, (nodes.List, nodes.Tuple)) and all(
        isinstance(item, nodes.Const) for item in node.iter.items)
    if isinstance(node, nodes.For) and not literal_list and not (
            isinstance(node.iter, nodes.Name) and node.iter.name in ("context", "messages")):
        raise ManifestError(f"prompt.template may loop only over 'context' or a literal list {where}")


def loop_iterations(node: nodes.Node, times: int = 1, limit: int = MAX_LOOP_ITERATIONS) -> int:
    """How many times loop bodies run in ``node`` when it runs ``times`` times (all loops together, nested ones
    multiplied out); ManifestError as soon as that is over ``limit``. Loops are over literal lists or the context
    (checked by _check_node)."""
    total = 0
    if isinstance(node, nodes.For):
        items = node.iter.items if isinstance(node.iter, (nodes.List, nodes.Tuple)) else range(MAX_CONTEXT_ITEMS)
        runs = times * len(items)
        total = runs + sum(loop_iterations(part, runs, limit - runs) for part in node.body if runs <= limit)
        parts, times = node.else_, times
    else:
        parts = node.iter_child_nodes()
    for part in parts:
        if total > limit:
            break
        total += loop_iterations(part, times, limit - total)
    if total > limit:
        raise ManifestError(f"prompt.template's loops run over {MAX_LOOP_ITERATIONS:,} times (nested loops multiply)")
    return total


def check_template(template: str) -> None:
    """Raise ManifestError unless ``template`` is a small, call-free prompt template that renders."""
    if len(template) > MAX_TEMPLATE_CHARS:
        raise ManifestError(f"prompt.template is {len(template):,} characters (limit {MAX_TEMPLATE_CHARS:,})")
    env = environment()
    try:
        tree = env.parse(template)
    except TemplateSyntaxError as err:
        raise ManifestError(f"prompt.template line {err.lineno}: {err.message}") from None
    except RecursionError:
        raise ManifestError("prompt.template nests too deeply") from None
    names = set(VARIABLES)  # plus what the template itself names: loop variables, `set` of a literal table
    for node in tree.find_all((nodes.For, nodes.Assign)):
        names.update(n.name for n in node.target.find_all(nodes.Name))
        names.update(n.name for n in [node.target] if isinstance(n, nodes.Name))
    try:
        for node in tree.find_all(nodes.Node):
            _check_node(node, names)
        loop_iterations(tree)
    except RecursionError:
        raise ManifestError("prompt.template nests too deeply") from None
    pieces = env.from_string(template).generate(
        source="English", target="Spanish", source_native="English", target_native="Español",
        text="Where is the station?", context=[("Hello.", "Hola."), ("Thank you.", "Gracias.")])
    size = 0
    for piece in pieces:  # streamed: the output is never held past the limit
        size += len(piece)
        if size > MAX_RENDERED_CHARS:
            pieces.close()
            raise ManifestError(f"prompt.template renders over {MAX_RENDERED_CHARS:,} characters")
