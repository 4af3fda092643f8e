"""What the command line is made of: the kinds of option value, the named completers, and the Option,
Argument and Command classes cli/spec.py declares the command line with (plain data, cheap to import)."""

# What an option's value is, and so how it is parsed and validated:
STRING = "string"  # one value; the last one given wins, as in pflag
STRINGS = "strings"  # pflag's string slice: repeatable, comma-separated values split
BOOL = "bool"  # pflag's bool: --flag or --flag=true|false; never the next word
DURATION = "duration"  # Go's time.Duration syntax (30s, 1m30s, 500ms) or whole seconds
CHOICE = "choice"  # one of .choices
RELEASE = "release"  # a Kubernetes release: 1.33, v1.33, v1.33.2

# Named completers: where completion finds an option's or argument's values.
# Options whose metavar is FILE or DIR complete file or directory names.
RELEASES, CONTEXTS, CLUSTERS, USERS, RESOURCES, SNAPSHOTS, FIELD_PATHS, API_WORDS = (
    "releases", "contexts", "clusters", "users", "resources", "snapshots", "fields", "apiwords",
)  # API_WORDS: resources and API groups (timeline's words)


class Option:
    """One flag.  dest is the name its value goes by in commands."""

    __slots__ = ("name", "short", "kind", "metavar", "help", "default", "choices", "completer", "env", "hidden")

    def __init__(self, name, kind=STRING, help="", metavar="", default=None, short="", choices=(), completer="", env=""):
        self.name = name
        self.hidden = False  # taken but not shown in help
        self.env = env  # an environment variable that stands in for the flag when it is not given
        self.short = short
        self.kind = kind
        self.metavar = metavar
        self.help = help
        self.default = default
        self.choices = tuple(choices)
        self.completer = completer

    @property
    def dest(self):
        return self.name.lstrip("-").replace("-", "_")

    @property
    def names(self):
        return (self.name, self.short) if self.short else (self.name,)

    @property
    def takes_value(self):
        """Whether the next word is this option's value (never for a bool)."""
        return self.kind != BOOL

    def with_choices(self, choices, default):
        """The same option with the choices one command offers (-o differs per command)."""
        copy = Option(self.name, self.kind, self.help, self.metavar, default, self.short, choices, self.completer, self.env)
        copy.help = f"{self.help} One of: ({', '.join(choices)})."  # as kubectl words it
        return copy

    def unused(self):
        """The same option, accepted and ignored by a command it means nothing to, and left out of its help."""
        copy = Option(self.name, self.kind, self.help, self.metavar, None, self.short, self.choices, self.completer)
        copy.hidden = True
        return copy


class Argument:
    __slots__ = ("dest", "metavar", "help", "required", "repeatable", "completer")

    def __init__(self, dest, metavar, help, required=True, repeatable=False, completer=""):
        self.dest = dest
        self.metavar = metavar
        self.help = help
        self.required = required
        self.repeatable = repeatable
        self.completer = completer


class Command:
    """A command, or a group of subcommands (cache).  handler names the module in
    kubectl_apiinfo.commands whose run(invocation) does the work."""

    __slots__ = ("name", "help", "arguments", "options", "handler", "subcommands", "takes_cluster")

    def __init__(self, name, help, arguments=(), options=(), handler="", subcommands=(), takes_cluster=False):
        self.name = name
        self.help = help
        self.arguments = tuple(arguments)
        self.options = tuple(options)
        self.handler = handler
        self.subcommands = tuple(subcommands)
        self.takes_cluster = takes_cluster  # its options build a ClusterFlags

    def option(self, name):
        """The option this command declares under a long or short name, else None."""
        for o in self.options:
            if name in o.names:
                return o
        return None

    def subcommand(self, name):
        for c in self.subcommands:
            if c.name == name:
                return c
        return None
