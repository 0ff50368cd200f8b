# bash completion for vfio-hook(8): subcommands, options, and domain names
# from `virsh list --all --name` when virsh is there and answers.
# SPDX-License-Identifier: LGPL-2.1-or-later

# Domain names of qemu:///system, read-only (which needs no root): only when
# virsh is installed and answers within two seconds, never a prompt.
_vfio_hook_domains()
{
    local virsh names
    virsh=$(type -P virsh) || return 0
    names=$(LC_ALL=C timeout 2 "$virsh" -q -r -c qemu:///system list --all --name </dev/null 2>/dev/null) ||
        return 0
    mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W "$names" -- "$cur")
}

_vfio_hook()
{
    local cur prev words cword split
    _init_completion -s || return

    local commands="check plan status restore enable disable dump"

    case $prev in
        --xml)
            _filedir xml
            return
            ;;
        --sysroot | --state-dir)
            _filedir -d
            return
            ;;
        --config | --policy-from)
            _filedir
            return
            ;;
        --device)
            # PCI functions as sysfs names them: DDDD:BB:SS.F
            mapfile -t COMPREPLY < <(compgen -W "$(ls /sys/bus/pci/devices 2>/dev/null)" -- "$cur")
            return
            ;;
        --connect)
            return
            ;;
    esac
    $split && return

    # The subcommand, and whether it has its domain (or --xml) already:
    # options may come before and after it.
    local i cmd="" args=0
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --xml | --xml=*) ((args++)) ;;&
            --xml | --sysroot | --state-dir | --config | --device | --policy-from | --connect) ((i++)) ;;
            -*) ;;
            *)
                if [[ -z $cmd ]]; then cmd=${words[i]}; else ((args++)); fi
                ;;
        esac
    done

    local opts
    case $cmd in
        check | plan) opts="--xml --json --sysroot --config" ;;
        status) opts="--json --sysroot --state-dir" ;;
        restore) opts="--force --state-dir" ;;
        enable) opts="--device --policy-from --dry-run --connect --sysroot" ;;
        disable) opts="--dry-run --connect" ;;
        dump) opts="--sysroot --state-dir --config" ;;
        *) opts="--xml --json --sysroot --state-dir --config --force --help --version" ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
        return
    fi

    case $cmd in
        "") mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur") ;;
        check | plan | restore | enable | disable) ((args == 0)) && _vfio_hook_domains ;;
        dump) ((args == 0)) && _filedir tar ;;
    esac
} &&
    complete -F _vfio_hook vfio-hook
