"""A module class of pasted code, ``class Net(nn.Module)``, read as its layers: the
``self.name = nn.X(...)`` lines of ``__init__`` (with the numbers it names and the arguments
it is built with), in the order ``forward`` applies them when it has one, a straight chain
through one tensor (``F.relu``, ``x.view(-1, n)``, ``torch.flatten`` and the like read as
layers too). Anything else forward does (a skip connection, a second input, a loop) is
refused with its line.

``ClassBuilder`` lives here, not in ``layer_builder``, because a class used as a block is read
with a ``ModuleReader`` and a module reader builds its layers with the builder: keeping both
here leaves ``layer_builder`` free of this module, and the imports without a cycle.
"""

from __future__ import annotations

import ast

from convplay.core.code_values import MAX_CLASS_NESTING, StackParseError, Values, dotted_name, fail, nn_name, snippet
from convplay.core.layer_builder import LayerBuilder, Step, not_a_layer, string_rule
from convplay.core.layers import KINDS, MAX_LAYERS, Layer

_CHAIN = "convplay traces a straight chain of layers"

_SOFTMAX_FUNCTIONS = ("softmax", "log_softmax")


class ClassBuilder(LayerBuilder):
    """A ``LayerBuilder`` that also reads the text's own nn.Module classes, ``classes`` by
    name, which a model may use as blocks (``self.block1 = ConvBlock(1, 16)``); ``reading``
    is the chain of classes being read, to refuse a class that contains itself."""

    def __init__(self, classes: dict):
        super().__init__()
        self.classes = classes
        self.reading: list[str] = []

    def module(self, node, name: str, values: Values) -> list:
        """[Step] for a layer, Sequential or block expression."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in self.classes:
            return self.block(node, name, values)
        return super().module(node, name, values)

    def block(self, call: ast.Call, name: str, values: Values) -> list:
        """The layers of ``ConvBlock(1, 16)``, a class of the text, in its forward's order,
        named under ``name`` as PyTorch names a submodule's modules."""
        cls = self.classes[call.func.id]
        if cls.name in self.reading:
            fail(call, f"{cls.name} contains itself")
        if len(self.reading) >= MAX_CLASS_NESTING:
            fail(call, f"classes nest more than {MAX_CLASS_NESTING} deep")
        self.reading.append(cls.name)
        try:
            reader = ModuleReader(cls, self, (call, values))
            steps = reader.read()
        finally:
            self.reading.pop()
        if not steps:
            fail(call, f"{cls.name} holds no layers")
        self.notes.extend(f"{name} ({cls.name}): {note}" for note in reader.notes)
        return [step.renamed(name) if name else step for step in steps]


_FUNCTIONAL = {  # name after F. → (kind, the functional's arguments after the input)
    "relu": ("ReLU", ("inplace",)),
    "leaky_relu": ("LeakyReLU", ("negative_slope", "inplace")),
    "sigmoid": ("Sigmoid", ()),
    "tanh": ("Tanh", ()),
    "gelu": ("GELU", ("approximate",)),
    "max_pool2d": ("MaxPool2d", ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")),
    "avg_pool2d": ("AvgPool2d", ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                                 "divisor_override")),
    "adaptive_max_pool2d": ("AdaptiveMaxPool2d", ("output_size", "return_indices")),
    "adaptive_avg_pool2d": ("AdaptiveAvgPool2d", ("output_size",)),
    "dropout": ("Dropout", ("p", "training", "inplace")),
}
_TORCH_FUNCTIONS = ("relu", "sigmoid", "tanh", "flatten")
_TENSOR_METHODS = ("relu", "sigmoid", "tanh", "flatten", "view", "reshape")
_BINOP_WORDS = {ast.Add: "adds", ast.Sub: "subtracts", ast.Mult: "multiplies", ast.Div: "divides",
                ast.MatMult: "matrix-multiplies"}


def _functional_name(func) -> str | None:
    dotted = dotted_name(func)
    if dotted is None:
        return None
    for prefix in ("F.", "nn.functional.", "torch.nn.functional.", "functional."):
        if dotted.startswith(prefix) and dotted[len(prefix):] in _FUNCTIONAL:
            return dotted[len(prefix):]
    return None


class ModuleReader:
    """One ``class X(nn.Module)``: its declared modules and, from forward, their order."""

    def __init__(self, cls: ast.ClassDef, builder: ClassBuilder, bound=None):
        self.cls = cls
        self.builder = builder
        self.bound = bound  # (the call that builds it, the caller's values) for a block
        self.values = Values()
        self.modules: dict[str, list] = {}  # attribute → [Step]
        self.notes: list[str] = []
        self.steps: list[Step] = []

    def read(self):
        init = forward = None
        for stmt in self.cls.body:
            if _is_docstring(stmt) or isinstance(stmt, ast.Pass):
                continue
            if isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
                init = stmt
            elif isinstance(stmt, ast.FunctionDef) and stmt.name == "forward":
                forward = stmt
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.notes.append(f"{self.cls.name}.{stmt.name} (line {stmt.lineno}) is not read: "
                                  "convplay reads __init__ and forward")
            else:
                fail(stmt, f"class {self.cls.name} holds {snippet(stmt)}: convplay reads only its "
                           "__init__ and forward")
        if self.cls.decorator_list:
            fail(self.cls.decorator_list[0], "a decorated class is not read")
        if init is not None:
            self.read_init(init)
        elif self.bound is not None and (self.bound[0].args or self.bound[0].keywords):
            fail(self.bound[0], f"{self.cls.name} has no __init__ to take these arguments")
        if forward is not None and self.modules:
            self.read_forward(forward)
            used = {step.name for step in self.steps}
            unused = [name for name, steps in self.modules.items()
                      if not any(step.name in used for step in steps)]
            if unused:
                self.notes.append(f"declared in __init__ but not used in forward: {', '.join(unused)} "
                                  "(left out of the stack)")
            counts: dict[str, int] = {}
            for step in self.steps:
                # Only a module with weights is worth a word: its weights are shared.
                if step.name and step.layer is not None and step.layer.params:
                    counts[step.name] = counts.get(step.name, 0) + 1
            twice = [name for name, n in counts.items() if n > 1]
            if twice:
                self.notes.append(f"used more than once in forward: {', '.join(twice)} "
                                  "(one module each: every use shares its weights)")
        elif forward is not None and not self.modules:
            self.read_forward(forward)  # all functional
        else:
            self.steps = [step for steps in self.modules.values() for step in steps]
            if self.steps:
                self.notes.append(f"{self.cls.name} has no forward: the layers are in the order __init__ declares them")
        return self.steps

    # __init__ -------------------------------------------------------------

    def read_init(self, init: ast.FunctionDef):
        self._defaults(init.args)
        if self.bound is not None:
            self._bind(init.args, *self.bound)
        for stmt in init.body:
            if _is_docstring(stmt) or isinstance(stmt, ast.Pass) or self._is_super_init(stmt):
                continue
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if len(targets) != 1 or stmt.value is None:
                    fail(stmt, "one name per assignment, please: convplay reads self.name = nn.X(...)")
                target, value = targets[0], stmt.value
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                    self._assign(target.attr, value)
                    continue
                if isinstance(target, ast.Name) and not _mentions_call(value):
                    self.values.names[target.id] = self.values.value(value)
                    continue
                fail(stmt, f"__init__ assigns {snippet(target)}: convplay reads self.name = nn.X(...) lines")
            fail(stmt, f"__init__ {_statement_words(stmt)}: convplay reads only self.name = nn.X(...) lines")

    def _defaults(self, args: ast.arguments):
        positional = args.posonlyargs + args.args
        for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
            self.values.names[arg.arg] = self.values.value(default, allow_str=True, choices=())
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            if default is not None:
                self.values.names[arg.arg] = self.values.value(default, allow_str=True, choices=())

    def _bind(self, args: ast.arguments, call: ast.Call, outer: Values):
        """``ConvBlock(1, 16, stride=2)``'s values for ``__init__(self, c_in, c_out, stride=1)``."""
        positional = [a.arg for a in args.posonlyargs + args.args][1:]
        keywords = positional + [a.arg for a in args.kwonlyargs]
        if len(call.args) > len(positional):
            fail(call, f"{self.cls.name} takes {len(positional)} argument{'s' if len(positional) != 1 else ''}, "
                       f"got {len(call.args)}")
        for param, node in zip(positional, call.args):
            if isinstance(node, ast.Starred):
                fail(node, "a starred argument (*...) is not read: write the arguments out")
            self.values.names[param] = outer.value(node, allow_str=True, choices=())
        for kw in call.keywords:
            if kw.arg is None:
                fail(kw.value, "a ** argument is not read: write the arguments out")
            if kw.arg not in keywords:
                fail(kw.value, f"{self.cls.name} has no argument {kw.arg!r}")
            self.values.names[kw.arg] = outer.value(kw.value, allow_str=True, choices=())
        defaults = len(args.defaults)
        required = positional[: len(positional) - defaults] if defaults else positional
        missing = [p for p in required if p not in self.values.names]
        missing += [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None and a.arg not in self.values.names]
        if missing:
            fail(call, f"{self.cls.name}(...) needs {', '.join(missing)}")

    def _is_super_init(self, stmt) -> bool:
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            return False
        call = stmt.value
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "__init__" and isinstance(func.value, ast.Call)):
            return False
        inner = func.value
        if not (isinstance(inner.func, ast.Name) and inner.func.id == "super") or call.args or call.keywords:
            fail(stmt, "only super().__init__() is read here")
        names = [a.id if isinstance(a, ast.Name) else None for a in inner.args]
        if inner.keywords or names not in ([], [self.cls.name, "self"]):
            fail(stmt, f"write super().__init__() or super({self.cls.name}, self).__init__()")
        return True

    def _assign(self, attr: str, value):
        if isinstance(value, ast.Call):
            known = nn_name(value.func) is not None or (
                isinstance(value.func, ast.Name) and value.func.id in self.builder.classes)
            if not known:
                fail(value, f"self.{attr} = {snippet(value)}: " + not_a_layer(value))
            steps = self.builder.module(value, attr, self.values)
            if attr in self.modules:
                self.notes.append(f"self.{attr} is assigned twice (line {value.lineno}): the later layer "
                                  "replaces the earlier, as in PyTorch")
            self.modules[attr] = steps
            return
        self.values.names["self." + attr] = self.values.value(value)

    # forward --------------------------------------------------------------

    def read_forward(self, forward: ast.FunctionDef):
        args = forward.args
        names = [a.arg for a in args.posonlyargs + args.args]
        if not names or names[0] != "self":
            fail(forward, "forward must take self first")
        required = len(names) - len(args.defaults)
        if required != 2 or args.vararg or args.kwarg or [a for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]:
            fail(forward, "forward takes more than one input: " + _CHAIN)
        self.current = names[1]
        self.earlier = {self.current}
        # forward sees the numbers __init__ stored on self, not __init__'s local names
        self.values = Values({k: v for k, v in self.values.names.items() if k.startswith("self.")})
        for stmt in forward.body:
            if _is_docstring(stmt) or isinstance(stmt, ast.Pass):
                continue
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if len(targets) != 1 or not isinstance(targets[0], ast.Name) or stmt.value is None:
                    fail(stmt, f"forward assigns {snippet(stmt, 30)}: " + _CHAIN)
                self.chain(stmt.value)
                self.current = targets[0].id
                self.earlier.add(self.current)
                continue
            if isinstance(stmt, ast.AugAssign):
                verb = _BINOP_WORDS.get(type(stmt.op), "combines")
                if isinstance(stmt.op, ast.Add):
                    fail(stmt, f"forward adds two tensors (a residual connection): {_CHAIN}")
                fail(stmt, f"forward {verb} the tensor in place ({snippet(stmt, 30)}): {_CHAIN}")
            if isinstance(stmt, ast.Return):
                if stmt.value is None:
                    fail(stmt, "forward returns nothing")
                self.chain(stmt.value)
                return
            fail(stmt, f"forward {_statement_words(stmt)}: {_CHAIN}")

    def _uses_tensor(self, node) -> bool:
        return any(isinstance(n, ast.Name) and n.id in self.earlier for n in ast.walk(node))

    def add(self, layer: Layer, node, fixed: int | None = None):
        self.add_step(Step(layer, node, fixed))

    def add_step(self, step: Step):
        self.steps.append(step)
        if len(self.steps) > MAX_LAYERS:
            fail(step.node, f"more than {MAX_LAYERS} layers: a stack holds at most {MAX_LAYERS}")

    def chain(self, node):
        """Appends the layers ``node`` applies to the current tensor, innermost first."""
        if isinstance(node, ast.Name):
            if node.id == self.current:
                return
            if node.id in self.earlier:
                fail(node, f"forward uses {node.id}, an earlier tensor, again (a skip connection): {_CHAIN}")
            fail(node, f"forward uses {node.id}, which is not the tensor it passes along: {_CHAIN}")
        if isinstance(node, ast.BinOp):
            left, right = self._uses_tensor(node.left), self._uses_tensor(node.right)
            verb = _BINOP_WORDS.get(type(node.op), "combines")
            if left and right:
                if isinstance(node.op, ast.Add):
                    fail(node, f"forward adds two tensors (a residual connection): {_CHAIN}")
                fail(node, f"forward {verb} two tensors: {_CHAIN}")
            fail(node, f"forward {verb} the tensor and a number ({snippet(node, 30)}): "
                       "convplay traces only layers")
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, (ast.Tuple, ast.List)):
            fail(node, f"forward gives {len(node.elts)} tensors ({snippet(node, 30)}): {_CHAIN} to one output")
        fail(node, f"forward computes {snippet(node, 30)}: {_CHAIN}")

    def call(self, node: ast.Call):
        func = node.func
        # self.name(x)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            steps = self.modules.get(func.attr)
            if steps is None:
                if func.attr in self.cls_methods():
                    fail(node, f"forward calls self.{func.attr}, a method: {_CHAIN} of nn modules")
                fail(node, f"forward uses self.{func.attr}, which __init__ does not declare as a layer")
            if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
                fail(node, f"self.{func.attr} is called with {len(node.args) + len(node.keywords)} "
                           f"arguments: {_CHAIN} through one tensor")
            self.chain(node.args[0])
            for step in steps:
                self.add_step(Step(step.layer, node, step.fixed, step.tail, step.tail_name))
            return
        name = _functional_name(func)
        dotted = dotted_name(func)
        if dotted is not None and dotted.rsplit(".", 1)[-1] in _SOFTMAX_FUNCTIONS and dotted.split(".")[0] in (
                "F", "torch", "nn", "functional") and "." in dotted:
            if not node.args or isinstance(node.args[0], ast.Starred):
                fail(node, f"{dotted} needs the tensor as its first argument")
            if any(self._uses_tensor(a) for a in node.args[1:]):
                fail(node, f"{dotted} gets the tensor twice: {_CHAIN}")
            self.chain(node.args[0])
            self.add_step(self.builder.softmax(node, dotted, node.args[1:], node.keywords, self.values))
            return
        if name is not None:
            return self.functional(node, name)
        if dotted is not None and dotted.startswith("torch.") and dotted[6:] in _TORCH_FUNCTIONS:
            fname = dotted[6:]
            if fname == "flatten":
                return self.flatten(node, node.args[1:] if node.args else [], node.keywords, tensor=node.args[:1])
            return self.functional(node, fname)
        # x.relu(), x.view(...), self.conv(x).flatten(1)
        if isinstance(func, ast.Attribute) and self._uses_tensor(func.value):
            method = func.attr
            if method in _SOFTMAX_FUNCTIONS:
                self.chain(func.value)
                self.add_step(self.builder.softmax(node, f"x.{method}", node.args, node.keywords, self.values))
                return
            if method not in _TENSOR_METHODS:
                fail(node, f"forward calls the tensor's .{method}(): {_CHAIN} "
                           "(it reads .relu(), .sigmoid(), .tanh(), .flatten(), .view() and .reshape())")
            if method in ("view", "reshape"):
                return self.view(node, func.value, method)
            if method == "flatten":
                return self.flatten(node, node.args, node.keywords, tensor=[func.value])
            if node.args or node.keywords:
                fail(node, f".{method}() takes no arguments here")
            self.chain(func.value)
            kind = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}[method]
            self.add(self.builder.make(node, kind, [], {}, ""), node)
            return
        what = dotted or snippet(func, 30)
        if dotted and dotted.split(".")[0] in ("torch", "F", "nn"):
            fail(node, f"forward calls {what}, which convplay cannot trace: {_CHAIN} "
                       "(functions it reads: F.relu, F.leaky_relu, F.gelu, torch.sigmoid, torch.tanh, "
                       "F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d, F.dropout, torch.flatten)")
        fail(node, f"forward calls {what}: {_CHAIN} of nn layers")

    def cls_methods(self):
        return {s.name for s in self.cls.body if isinstance(s, ast.FunctionDef)}

    def functional(self, node: ast.Call, fname: str):
        kind, params = _FUNCTIONAL[fname]
        where = dotted_name(node.func)
        if where.startswith("torch.") and not where.startswith("torch.nn."):
            params = ()  # torch.relu, torch.sigmoid, torch.tanh take the tensor only
        if not node.args or isinstance(node.args[0], ast.Starred):
            fail(node, f"{where} needs the tensor as its first argument")
        tensor, rest = node.args[0], node.args[1:]
        if any(self._uses_tensor(a) for a in rest) or any(self._uses_tensor(k.value) for k in node.keywords):
            fail(node, f"{where} gets the tensor twice: {_CHAIN}")
        if len(rest) > len(params):
            fail(node, f"{where} takes at most {len(params) + 1} argument{'s' if params else ''} here")
        given = dict(zip(params, rest))
        for kw in node.keywords:
            if kw.arg is None:
                fail(kw.value, "a ** argument is not read: write the arguments out")
            if kw.arg not in params:
                fail(kw.value, f"{where} has no argument {kw.arg!r} convplay reads")
            if kw.arg in given:
                fail(kw.value, f"{where} got {kw.arg} twice")
            given[kw.arg] = kw.value
        signature = {arg.name: arg for arg in KINDS[kind]}
        kwargs = {}
        training = True
        for param, value_node in given.items():
            if param == "training":
                training = "self" if _is_self_training(value_node) else self.values.value(value_node)
                if not isinstance(training, bool) and training != "self":
                    fail(value_node, "training must be True, False or self.training")
                continue
            kwargs[param] = self.values.value(value_node, *string_rule(signature.get(param)))
        self.chain(tensor)
        if kind == "Dropout" and training is True:
            self.notes.append(f"line {node.lineno}: F.dropout drops values even in eval mode unless given "
                              "training=self.training; convplay treats it as nn.Dropout, the identity in eval")
        self.add(self.builder.make(node, kind, [], kwargs, ""), node)

    def flatten(self, node: ast.Call, rest, keywords, tensor):
        if not tensor:
            fail(node, "torch.flatten needs the tensor as its first argument")
        # torch.flatten and Tensor.flatten start at dimension 0 by default, nn.Flatten at 1
        params = ("start_dim", "end_dim")
        if len(rest) > 2:
            fail(node, "flatten takes start_dim and end_dim")
        kwargs = {"start_dim": 0}
        for param, value in zip(params, rest):
            kwargs[param] = self.values.value(value)
        for kw in keywords:
            if kw.arg not in params:
                fail(kw.value, f"flatten has no argument {kw.arg!r} convplay reads")
            kwargs[kw.arg] = self.values.value(kw.value)
        if kwargs["start_dim"] == 0:
            self.notes.append(f"line {node.lineno}: flatten from dimension 0 folds the batch into the features "
                              "(write flatten(1) to keep the batch)")
        self.chain(tensor[0])
        self.add(self.builder.make(node, "Flatten", [], kwargs, ""), node)

    def view(self, node: ast.Call, tensor, method: str):
        """``x.view(-1, n)`` (a fixed row length), ``x.view(x.size(0), -1)`` and the like."""
        args = node.args
        if node.keywords or len(args) != 2 or any(isinstance(a, ast.Starred) for a in args):
            fail(node, f"x.{method}(...) in a form convplay does not read: it reads x.{method}(x.size(0), -1) "
                       f"and x.{method}(-1, n), a flatten")
        first, second = args
        self.chain(tensor)
        if self._is_batch(first):
            if self._is_minus_one(second):
                self.add(self.builder.make(node, "Flatten", [], {}, ""), node)
                return
            n = self.values.value(second)
            self.notes.append(f"line {node.lineno}: x.{method}(x.size(0), {n}) flattens; "
                              f"check that {n} is the C×H×W the stack gives")
            self.add(self.builder.make(node, "Flatten", [], {}, ""), node)
            return
        if self._is_minus_one(first):
            if _mentions_call(second):
                fail(second, f"x.{method}(-1, {snippet(second, 30)}) takes its row length from a call: "
                             "convplay reads a number there (such as 16 * 5 * 5)")
            n = self.values.value(second)
            if not isinstance(n, int) or n < 1:
                fail(second, f"x.{method}(-1, n) needs a whole number n ≥ 1, got {n!r}")
            self.add(self.builder.make(node, "Flatten", [], {}, ""), node, n)
            return
        fail(node, f"x.{method}(...) in a form convplay does not read: it reads x.{method}(x.size(0), -1) "
                   f"and x.{method}(-1, n), a flatten")

    def _is_minus_one(self, node) -> bool:
        if self._uses_tensor(node):
            return False
        try:
            return self.values.value(node) == -1
        except StackParseError:
            return False

    def _is_batch(self, node) -> bool:
        """``x.size(0)``, ``x.size()[0]``, ``x.shape[0]`` of the tensor being reshaped."""
        def is_x(n):
            return isinstance(n, ast.Name) and n.id == self.current

        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "size" \
                and is_x(node.func.value) and not node.keywords:
            return len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and node.args[0].value == 0
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == 0:
            base = node.value
            if isinstance(base, ast.Attribute) and base.attr == "shape" and is_x(base.value):
                return True
            if isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute) and base.func.attr == "size" \
                    and is_x(base.func.value) and not base.args and not base.keywords:
                return True
        return False


def _is_self_training(node) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "training" and isinstance(node.value, ast.Name) \
        and node.value.id == "self"


def _is_docstring(stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _mentions_call(node) -> bool:
    return any(isinstance(n, ast.Call) for n in ast.walk(node))


def _statement_words(stmt) -> str:
    if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
        return "loops"
    if isinstance(stmt, ast.If):
        return "branches (an if)"
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return "opens a with block"
    if isinstance(stmt, ast.Try):
        return "has a try block"
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        return f"calls {dotted_name(stmt.value.func) or snippet(stmt.value.func, 30)}"
    if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
        return f"defines {stmt.name}"
    return f"holds {snippet(stmt, 30)}"
