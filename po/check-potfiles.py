#!/usr/bin/python3
# check-potfiles.py
#
# Copyright 2026 The Eider Authors
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Checks po/POTFILES.in against the tree: every listed file must exist, and
# every C file that marks strings for translation and every .ui file with
# translatable properties must be listed.
#
# Usage: check-potfiles.py SOURCE_ROOT

import os
import re
import sys

MARKS = {
    '.c': re.compile(r'\b(?:N_|_|C_|NC_|g_dngettext|ngettext)\s*\(\s*"'),
    '.ui': re.compile(r'translatable="(?:yes|true)"'),
}


def main():
    root = sys.argv[1]
    with open(os.path.join(root, 'po', 'POTFILES.in'), encoding='utf-8') as f:
        listed = [line.strip() for line in f
                  if line.strip() and not line.lstrip().startswith('#')]

    errors = []
    for path in listed:
        if not os.path.isfile(os.path.join(root, path)):
            errors.append(f'{path} is listed in po/POTFILES.in but does not exist')

    for top in ('src', 'ui'):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for name in sorted(filenames):
                mark = MARKS.get(os.path.splitext(name)[1])
                if mark is None:
                    continue
                path = os.path.join(dirpath, name)
                relpath = os.path.relpath(path, root)
                with open(path, encoding='utf-8', errors='replace') as f:
                    if mark.search(f.read()) and relpath not in listed:
                        errors.append(f'{relpath} has translatable strings '
                                      'but is missing from po/POTFILES.in')

    for error in errors:
        print(error)
    if errors:
        sys.exit(1)
    print(f'{len(listed)} files listed, all present; no unlisted translatable files')


if __name__ == '__main__':
    main()
