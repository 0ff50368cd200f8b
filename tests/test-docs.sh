#!/bin/bash
# The manual pages, the README and the bash completion say what the program
# does: every subcommand and option `vfio-hook-engine --help` prints, every
# element and value of the policy's schema (src/policy.rng) and every
# directive the config parser accepts (src/model/policy.c) appears in each place
# that documents it. A name the code gains without its documentation fails.
set -u
: "${top_srcdir:?}" "${top_builddir:?}" "${XMLLINT:=xmllint}"
man=$top_srcdir/man readme=$top_srcdir/README comp=$top_srcdir/completion/vfio-hook.bash
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
has() { # has NAME FILE-OR-TEXT-LABEL PATTERN TEXT
        if grep -qE -- "$3" <<<"$4"; then ok "$1 in $2"; else not_ok "$1 in $2 (no match for /$3/)"; fi
}
nonempty() { # a list scraped from the code must not be empty: the test would assert nothing
        if [ -n "$2" ]; then ok "$1: $(tr '\n' ' ' <<<"$2")"; else not_ok "$1: found none"; fi
}
# A section of an mdoc page: from the line matching $2 to the next .Sh/.Ss.
section() { awk -v start="$2" '$0 ~ start {on = 1; print; next} on && /^\.S[hs] / {exit} on' "$1"; }
# A section of the README: from its title to the next underlined title.
readme_section() { awk -v t="$1" '$0 == t {on = 1} on && /^---/ && seen++ {exit} on' "$readme" | sed '$d'; }

page8=$(cat "$man/vfio-hook.8")
conf5=$(cat "$man/vfio-hook.conf.5")
readme_text=$(cat "$readme")
comp_text=$(cat "$comp")

# --- the command line, as --help prints it ---
help=$("$top_builddir/vfio-hook-engine" --help)
commands=$(sed -n 's/^  vfio-hook \([a-z][a-z-]*\)\b.*/\1/p' <<<"$help" | sort -u)
# Options are named on the indented lines (usage and the option list); the
# prose under them only talks about options (--opt VALUE).
options=$(grep -E '^  ' <<<"$help" | grep -oE -- '--[a-z][a-z-]*' | sort -u)
nonempty "subcommands in --help" "$commands"
nonempty "options in --help" "$options"
for c in $commands; do
        has "subcommand $c" "vfio-hook(8) COMMANDS" "^\.Ss $c( |$)" "$page8"
        has "subcommand $c" "vfio-hook(8) SYNOPSIS" "^\.Cm $c$" "$(section "$man/vfio-hook.8" '^\.Sh SYNOPSIS')"
        has "subcommand $c" README "vfio-hook $c\b" "$readme_text"
        has "subcommand $c" "bash completion" "commands=\".*\b$c\b" "$comp_text"
done
for o in $options; do
        has "option $o" "vfio-hook(8) OPTIONS" "^\.It Fl .*\\\\${o#-}( |$)" "$(section "$man/vfio-hook.8" '^\.Sh OPTIONS')"
        has "option $o" README -- "$o\b" "$readme_text"
        has "option $o" "bash completion" -- "$o\b" "$comp_text"
done

# --- the policy, as its schema states it ---
x() { "$XMLLINT" --xpath "$1" "$top_srcdir/src/policy.rng" 2>/dev/null; }
el="//*[local-name()='element']/*[local-name()='choice']/*[local-name()='name'][not(@ns)]"
elements=$(x "$el/text()")
nonempty "policy elements in src/policy.rng" "$elements"
policy_readme=$(readme_section "The policy")
for e in $elements; do
        this="//*[local-name()='element'][*[local-name()='choice']/*[local-name()='name'][not(@ns)]='$e']"
        values=$(x "$this//*[local-name()='value']/text()")
        for ref in $(x "$this//*[local-name()='ref']/@name" | sed 's/ *name="\([^"]*\)"/\1\n/g'); do
                values+=" $(x "//*[local-name()='define'][@name='$ref']//*[local-name()='value']/text()")"
        done
        sec=$(section "$man/vfio-hook-policy.5" "^\\.Ss <$e>\$")
        has "element <$e>" "vfio-hook-policy(5)" "^\.Ss <$e>$" "$sec"
        has "element <$e>" "README's policy" "<$e>" "$policy_readme"
        for v in $values; do
                has "<$e> value $v" "vfio-hook-policy(5)" "^\.It Cm (.* )?$v( |$)" "$sec"
                has "<$e> value $v" "README's policy" "\b$v\b" "$policy_readme"
        done
done
has "namespace" "vfio-hook-policy(5)" "urn:vfio-hook:policy:1" "$(cat "$man/vfio-hook-policy.5")"

# --- the config file, as its parser reads it ---
directives=$(grep -oE 'streq\(directive, "[a-z-]+"\)' "$top_srcdir/src/model/policy.c" | cut -d'"' -f2 | sort -u)
nonempty "directives in src/model/policy.c" "$directives"
for d in $directives; do
        has "directive $d" "vfio-hook.conf(5)" "^\.It Ic $d " "$conf5"
        has "directive $d" README "$d\b" "$readme_text"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
