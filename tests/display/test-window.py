#!/usr/bin/python3
# test-window.py
#
# Copyright 2026 The Eider Authors
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Starts `eider` on a private Xvfb display with a private D-Bus session bus,
# and checks that:
#  - the main window is mapped, at the default size from the GSettings schema;
#  - a screenshot of it is not blank;
#  - app.about (activated over D-Bus) maps a second top-level window, and
#    win.show-help-overlay a third one;
#  - app.quit (over D-Bus) makes the process exit with status 0 and saves
#    the window size, and a second start restores a changed size.
#
# Usage: test-window.py EIDER_BINARY APP_ID SCHEMA_DIR OUTPUT_DIR

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TIMEOUT = 30.0


def log(*args):
    print('#', *args, flush=True)


def fail(message):
    print('FAIL:', message, flush=True)
    sys.exit(1)


def need(program):
    path = shutil.which(program)
    if path is None:
        fail(f'{program} not found in PATH')
    return path


class Session:
    """One Xvfb server and one D-Bus session bus, both private to the test."""

    def __init__(self, tmpdir):
        self.tmpdir = tmpdir
        self.procs = []

        # Xvfb picks a free display itself and writes its number to the pipe.
        rfd, wfd = os.pipe()
        xvfb = subprocess.Popen(
            [need('Xvfb'), '-displayfd', str(wfd), '-screen', '0', '1280x800x24',
             '-nolisten', 'tcp', '-noreset'],
            pass_fds=(wfd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(xvfb)
        os.close(wfd)
        with os.fdopen(rfd) as pipe:
            number = pipe.readline().strip()
        if not number:
            fail('Xvfb did not start')
        self.display = ':' + number

        dbus = subprocess.Popen(
            [need('dbus-daemon'), '--session', '--nofork', '--nopidfile',
             '--print-address=1'],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs.append(dbus)
        self.bus_address = dbus.stdout.readline().strip()
        if not self.bus_address:
            fail('dbus-daemon did not start')

    def close(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def x_env(session):
    env = dict(os.environ)
    env['DISPLAY'] = session.display
    env['DBUS_SESSION_BUS_ADDRESS'] = session.bus_address
    return env


def top_level_windows(session):
    """Returns {window id: (name, width, height)} of mapped top-level windows."""
    out = subprocess.run(['xwininfo', '-root', '-children'], env=x_env(session),
                         capture_output=True, text=True, check=True).stdout
    windows = {}
    for line in out.splitlines():
        m = re.match(r'\s*(0x[0-9a-f]+) (?:"(.*)"|\(has no name\)): .* (\d+)x(\d+)\+', line)
        if not m:
            continue
        wid, name, width, height = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
        info = subprocess.run(['xwininfo', '-id', wid], env=x_env(session),
                              capture_output=True, text=True).stdout
        if 'Map State: IsViewable' in info:
            windows[wid] = (name or '', width, height)
    return windows


def wait_for(predicate, what, app=None):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        if app is not None and app.poll() is not None:
            fail(f'eider exited with status {app.returncode} while waiting for {what}')
        time.sleep(0.2)
    fail(f'timed out waiting for {what}')


def stddev(path):
    out = subprocess.run(['identify', '-format', '%[fx:standard_deviation]', path],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


def colours(path):
    out = subprocess.run(['identify', '-format', '%k', path],
                         capture_output=True, text=True, check=True).stdout
    return int(out)


def screenshot(session, window, path):
    """Waits until the window's pixels show more than a flat fill, saves them."""
    def grab():
        subprocess.run(['import', '-display', session.display, '-window', window, path],
                       check=True, capture_output=True)
        return stddev(path) > 0.02 and colours(path) > 16
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if grab():
            return
        time.sleep(0.5)
    fail(f'screenshot {path} stayed blank (stddev {stddev(path):.4f}, '
         f'{colours(path)} colours)')


def activate(session, app_id, action, object_path=None):
    if object_path is None:
        object_path = '/' + app_id.replace('.', '/')
    subprocess.run(['gdbus', 'call', '--session', '--dest', app_id,
                    '--object-path', object_path,
                    '--method', 'org.gtk.Actions.Activate', action, '[]', '{}'],
                   env=x_env(session), check=True, capture_output=True, timeout=TIMEOUT)


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

    env = x_env(session)
    env.update({
        'GDK_BACKEND': 'x11',
        'GSK_RENDERER': 'cairo',
        'LIBGL_ALWAYS_SOFTWARE': '1',
        # The cairo renderer needs no GL context. Without this, GDK still
        # probes EGL/GLX, and Mesa's unloaded driver leaves an allocation
        # that LeakSanitizer cannot attribute or suppress.
        'GDK_DEBUG': 'gl-disable',
        'GSETTINGS_SCHEMA_DIR': schema_dir,
        'GSETTINGS_BACKEND': 'keyfile',
        'GTK_A11Y': 'none',
        'NO_AT_BRIDGE': '1',
        'HOME': tmpdir,
        'XDG_CONFIG_HOME': os.path.join(tmpdir, 'config'),
        'XDG_DATA_HOME': os.path.join(tmpdir, 'data'),
        'XDG_CACHE_HOME': os.path.join(tmpdir, 'cache'),
        'XDG_RUNTIME_DIR': tmpdir,
        'LANG': 'C.UTF-8',
        # Any GLib or GTK warning from the app aborts it and fails the test.
        'G_DEBUG': 'fatal-warnings',
    })
    env.pop('WAYLAND_DISPLAY', None)
    keyfile = os.path.join(tmpdir, 'config', 'glib-2.0', 'settings', 'keyfile')

    def start():
        app = subprocess.Popen([eider], env=env)
        window = wait_for(lambda: next((w for w, (name, _, _) in top_level_windows(session).items()
                                        if name == 'Eider'), None),
                          'the main window to be mapped', app)
        return app, window

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
