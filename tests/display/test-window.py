#!/usr/bin/python3
# test-window.py
#
# Copyright 2026 The Eider Authors
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Starts `eider` on a private Xvfb display with a private D-Bus session bus,
# with no account (the window's host refuses to start: the window says how to
# log in), and checks that:
#  - the main window is mapped, at the default size from the GSettings schema;
#  - a screenshot of it is not blank;
#  - app.about (activated over D-Bus) maps a second top-level window, and
#    win.show-help-overlay a third one;
#  - app.quit (over D-Bus) makes the process exit with status 0 and saves
#    the window size, and a second start restores a changed size.
#
# Usage: test-window.py EIDER_BINARY APP_ID SCHEMA_DIR OUTPUT_DIR

import os
import shutil
import subprocess
import sys
import tempfile

from eider_display import (TIMEOUT, Session, activate, app_env, colours, fail, log, main_window,
                           need, screenshot, stddev, top_level_windows, wait_for)


def read_keyfile(path):
    values = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if '=' in line:
                    key, value = line.strip().split('=', 1)
                    values[key] = value
    return values


def main():
    if len(sys.argv) != 5:
        fail(f'usage: {sys.argv[0]} EIDER_BINARY APP_ID SCHEMA_DIR OUTPUT_DIR')
    eider, app_id, schema_dir, output_dir = sys.argv[1:]
    for program in ('xwininfo', 'import', 'identify', 'gdbus'):
        need(program)

    tmpdir = tempfile.mkdtemp(prefix='eider-display-')
    session = Session(tmpdir)
    log('display', session.display, 'bus', session.bus_address)

    env = app_env(session, tmpdir, schema_dir)
    keyfile = os.path.join(tmpdir, 'config', 'glib-2.0', 'settings', 'keyfile')

    def start():
        app = subprocess.Popen([eider], env=env)
        return app, main_window(session, app)

    def quit(app):
        activate(session, app_id, 'quit')
        try:
            status = app.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            app.kill()
            fail('eider did not exit after app.quit')
        if status != 0:
            fail(f'eider exited with status {status} after app.quit')

    try:
        # First start: default size from the schema.
        app, window = start()
        name, width, height = top_level_windows(session)[window]
        log('main window', window, f'{width}x{height}')
        if (width, height) != (800, 600):
            fail(f'main window is {width}x{height}, expected the default 800x600')

        main_png = os.path.join(output_dir, 'eider-window.png')
        screenshot(session, window, main_png)
        root_png = os.path.join(output_dir, 'eider-screen.png')
        screenshot(session, 'root', root_png)
        log('screenshots', main_png, root_png,
            f'stddev {stddev(main_png):.3f}', f'{colours(main_png)} colours')

        # app.about maps a second top-level window.
        activate(session, app_id, 'about')
        about = wait_for(lambda: next((w for w in top_level_windows(session) if w != window), None),
                         'the About window to be mapped', app)
        about_png = os.path.join(output_dir, 'eider-about.png')
        screenshot(session, about, about_png)
        log('about window', about, top_level_windows(session)[about], about_png)

        # The window's exported win.show-help-overlay opens the shortcuts
        # window from gtk/help-overlay.ui in the resource.
        activate(session, app_id, 'show-help-overlay',
                 '/' + app_id.replace('.', '/') + '/window/1')
        shortcuts = wait_for(lambda: next((w for w in top_level_windows(session)
                                           if w not in (window, about)), None),
                             'the shortcuts window to be mapped', app)
        shortcuts_png = os.path.join(output_dir, 'eider-shortcuts.png')
        screenshot(session, shortcuts, shortcuts_png)
        log('shortcuts window', shortcuts, top_level_windows(session)[shortcuts], shortcuts_png)

        # app.quit exits cleanly and saves the window size.
        quit(app)
        saved = read_keyfile(keyfile)
        if saved.get('window-width') != '800' or saved.get('window-height') != '600':
            fail(f'window size was not saved on quit: {saved}')

        # Second start restores a changed size.
        with open(keyfile) as f:
            text = f.read()
        text = text.replace('window-width=800', 'window-width=960')
        text = text.replace('window-height=600', 'window-height=700')
        with open(keyfile, 'w') as f:
            f.write(text)
        app, window = start()
        _, width, height = top_level_windows(session)[window]
        if (width, height) != (960, 700):
            fail(f'restored main window is {width}x{height}, expected 960x700')
        quit(app)
        log('restored size 960x700 and quit again')
    finally:
        session.close()
        shutil.rmtree(tmpdir, ignore_errors=True)

    print('PASS', flush=True)


if __name__ == '__main__':
    main()
