#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Every policy in examples/*.xml must validate against src/policy.rng, and
# policies that the hook would refuse must not: otherwise the schema proves
# nothing. Run by `make check` with top_srcdir and XMLLINT in the environment.

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${XMLLINT:=xmllint}"
NS='urn:vfio-hook:policy:1'
RNG="$top_srcdir/src/policy.rng"

if ! command -v "$XMLLINT" >/dev/null 2>&1; then
        echo "SKIP: xmllint not found (install libxml2-utils)"
        exit 77
fi
if [ ! -r "$RNG" ]; then
        echo "FAIL: $RNG not found (is top_srcdir right?)"
        exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vh-examples.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# A wrapper grammar: any document, any element, but every element in our
# namespace must be a valid <policy>, wherever its xmlns is declared.
cat >"$tmp/wrapper.rng" <<EOF
<grammar xmlns="http://relaxng.org/ns/structure/1.0">
  <include href="$RNG">
    <start><ref name="vh-any"/></start>
  </include>
  <define name="vh-any">
    <element>
      <anyName><except><nsName ns="$NS"/></except></anyName>
      <zeroOrMore>
        <choice>
          <attribute><anyName/></attribute>
          <text/>
          <ref name="vh-any"/>
          <ref name="policy"/>
        </choice>
      </zeroOrMore>
    </element>
  </define>
</grammar>
EOF

failed=0
validated=0

validates() {
        "$XMLLINT" --noout --nonet --relaxng "$tmp/wrapper.rng" "$1" >"$tmp/out" 2>&1
}

count_policies() {
        "$XMLLINT" --nonet --xpath \
                "count(/domain/metadata/*[local-name()='policy' and namespace-uri()='$NS'])" "$1" 2>/dev/null
}

for f in "$top_srcdir"/examples/*.xml; do
        [ -e "$f" ] || continue
        name=${f##*/}
        if ! validates "$f"; then
                echo "FAIL: $name does not validate against policy.rng:"
                sed 's/^/    /' "$tmp/out"
                failed=1
                continue
        fi
        n=$(count_policies "$f")
        case "$name" in
        no-policy.xml) want=0 ;;
        *) want=1 ;;
        esac
        if [ "$n" != "$want" ]; then
                echo "FAIL: $name has ${n:-?} policy elements, expected $want"
                failed=1
                continue
        fi
        echo "ok: $name ($n policy)"
        validated=$((validated + 1))
done

if [ "$validated" -lt 4 ]; then
        echo "FAIL: only $validated examples validated, expected at least 4"
        failed=1
fi

# Policies the schema must accept besides the examples' spellings.
good() {
        printf '<domain><name>t</name><metadata>%s</metadata></domain>\n' "$2" >"$tmp/good.xml"
        if validates "$tmp/good.xml"; then
                echo "ok: accepts $1"
        else
                echo "FAIL: the schema rejects $1:"
                sed 's/^/    /' "$tmp/out"
                failed=1
        fi
}

# Policies the hook refuses: the schema must refuse them too.
bad() {
        printf '<domain><name>t</name><metadata>%s</metadata></domain>\n' "$2" >"$tmp/bad.xml"
        if validates "$tmp/bad.xml"; then
                echo "FAIL: the schema accepts $1"
                failed=1
        else
                echo "ok: rejects $1"
        fi
}

P="<vh:policy xmlns:vh='$NS'>"
E="</vh:policy>"

good "an empty policy" "$P$E"
good "a default-namespace policy" "<policy xmlns='$NS'><stack>nvidia</stack><module>snd-hda-intel</module></policy>"
good "elements in any order" "$P<timeout>600</timeout><service>a@b.service</service><stack>none</stack><service>x.service</service>$E"
good "blanks around values" "$P<stack> amdgpu </stack><timeout> 1 </timeout>$E"
good "auto console, framebuffer and display manager" "$P<console>auto</console><framebuffer>auto</framebuffer><display-manager>auto</display-manager>$E"
good "explicit console, framebuffer and display manager" "$P<console>unbind</console><framebuffer>keep</framebuffer><display-manager>stop</display-manager>$E"

bad "an unknown stack" "$P<stack>foo</stack>$E"
bad "an unknown element" "$P<stacks>auto</stacks>$E"
bad "a child in another namespace" "$P<x:stack xmlns:x='urn:other'>auto</x:stack>$E"
bad "a repeated single-valued element" "$P<stack>auto</stack><stack>nvidia</stack>$E"
bad "an attribute" "$P<stack force='1'>auto</stack>$E"
bad "a bad console value" "$P<console>off</console>$E"
bad "a bad framebuffer value" "$P<framebuffer>yes</framebuffer>$E"
bad "a bad display-manager value" "$P<display-manager>restart</display-manager>$E"
bad "the console's word for the display manager" "$P<display-manager>unbind</display-manager>$E"
bad "the display manager's word for the console" "$P<console>stop</console>$E"
bad "a bad holders value" "$P<holders>kill</holders>$E"
bad "a service that is not a .service" "$P<service>foo.socket</service>$E"
bad "a service with a path" "$P<service>../../etc/x.service</service>$E"
bad "a service with '..'" "$P<service>a..b.service</service>$E"
bad "a template service" "$P<service>getty@.service</service>$E"
bad "a module with capitals" "$P<module>Evil</module>$E"
bad "a module with a slash" "$P<module>a/b</module>$E"
bad "a too long module name" "$P<module>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</module>$E"
bad "timeout 0" "$P<timeout>0</timeout>$E"
bad "timeout 601" "$P<timeout>601</timeout>$E"
bad "a signed timeout" "$P<timeout>+5</timeout>$E"
bad "a misspelt policy element" "<vh:polcy xmlns:vh='$NS'/>"
bad "an unknown inhibitor What" "$P<inhibit>nap</inhibit>$E"
bad "an inhibitor list ending in ':'" "$P<inhibit>sleep:</inhibit>$E"
bad "isolate without cpus" "$P<isolate/>$E"
bad "a malformed CPU list" "$P<isolate cpus='2-'/>$E"
bad "a CPU list with blanks" "$P<isolate cpus='1, 2'/>$E"
bad "isolate with text" "$P<isolate cpus='1'>x</isolate>$E"
bad "a huge page size the hook does not know" "$P<hugepages size='4K'/>$E"

exit $failed
