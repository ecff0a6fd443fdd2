#!/usr/bin/python3
# test-engine-window.py
#
# Copyright 2026 The Eider Authors
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The window against a real engine host, driven through the accessibility
# tree (AT-SPI) in a private Xvfb + D-Bus session:
#  - eider-test-server on loopback; with no account the window shows how
#    to log in; once one is signed up with eiderctl, Try Again connects;
#  - `eider` starts the host itself (eiderctl daemon), shows the empty
#    Folders page; app.add-folder-path adds a folder of JPEGs; its row
#    appears; the Activity page shows files in flight with progress bars
#    (uploads slowed by a bandwidth limit), then "Up to Date"; the folder's
#    row counts "N backed up · 0 left · 1 skipped", and the Skipped section
#    lists the text file;
#  - Preferences (app.preferences): the upload speed limit (a spin button,
#    set through the AT-SPI Value interface) and the metered switch reach
#    `eiderctl config get`; an upload window set there (From/Until) makes
#    the running host hold a new photo back ("Waiting for the upload
#    window"), and turned off again the photo goes up;
#  - the Account page shows the account's email and server and a storage
#    bar with "… of … used";
#  - Pause from the folder's menu shows the banner "… is paused";
#  - at 360 pixels wide the page switcher is a bar at the bottom;
#  - kill -9 of the host shows "Eider Stopped" and no folder row; "Start
#    Again" starts a new host and the folder row comes back, still paused;
#    the banner's Resume resumes it; Stop Backing Up asks first (nothing in
#    Ente is deleted), then the folder is gone; Log Out… on the Account
#    page asks first, then the host has no account and the window shows
#    the log-in page;
#  - with another account whose subscription has expired (and a folder
#    added by eiderctl), the banner gives the host's reason (in dark style).
# Screenshots of each step go to OUTPUT_DIR.
#
# Usage: test-engine-window.py EIDER EIDERCTL EIDER_TEST_SERVER APP_ID SCHEMA_DIR OUTPUT_DIR

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from eider_display import (Session, activate, app_env, fail, log, main_window, need, screenshot,
                           wait_for)

TIMEOUT = 60.0
EMAIL = 'window@example.org'
PASSWORD = 'eider-window-test'
CODE = '123456'
N_PHOTOS = 6


def start_server(session, server, tmpdir, options=()):
    data = os.path.join(tmpdir, 'server')
    os.makedirs(data)
    proc = session.spawn([server, '--listen', '127.0.0.1:0', '--data-dir', data,
                          '--fixed-ott', CODE, *options],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith('listening on '):
        fail(f'eider-test-server did not start: {line!r}')
    return line[len('listening on '):]


def sign_up(eiderctl, env, url, tmpdir):
    def run(args, stdin=None):
        result = subprocess.run([eiderctl, 'account', 'signup', '--endpoint', url, '--email', EMAIL]
                                + args, env=env, input=stdin, capture_output=True, text=True,
                                timeout=TIMEOUT)
        if result.returncode != 0:
            fail(f'eiderctl account signup {args}: {result.stderr.strip()}')
    run(['--request-code'])
    run(['--code', CODE, '--password-stdin', '--store-secrets-in-file',
         '--recovery-words-file', os.path.join(tmpdir, 'recovery-words')], PASSWORD + '\n')


def make_photos(folder, n=N_PHOTOS):
    os.makedirs(folder)
    for i in range(n):
        # Different pictures: Ente's de-duplication must not fold them.
        subprocess.run(['convert', '-seed', str(i), '-size', '1200x900', 'plasma:',
                        os.path.join(folder, f'IMG_{i:04}.jpg')], check=True)
    # Not a photo: skipped, with its reason.
    with open(os.path.join(folder, 'notes.txt'), 'w') as f:
        f.write('Not a photo.\n')


class Accessible:
    """The app's accessibility tree, through pyatspi on the session's bus."""

    def __init__(self, session):
        # pyatspi finds the accessibility bus through the session bus it is
        # imported with.
        os.environ['DBUS_SESSION_BUS_ADDRESS'] = session.bus_address
        os.environ['DISPLAY'] = session.display
        import pyatspi
        from gi.repository import GLib
        self.pyatspi = pyatspi
        self.GLib = GLib
        self.on_timeout = None
        # A sanitizer build on a busy machine answers slowly: a minute
        # before a call counts as unanswered (libatspi's default is 25 s).
        pyatspi.setTimeout(60000, 60000)

    def app(self):
        desktop = self.pyatspi.Registry.getDesktop(0)
        for i in range(desktop.childCount):
            child = desktop.getChildAtIndex(i)
            if child is not None and child.name == 'eider':
                return child
        return None

    def shown(self, node):
        """Whether @node is on screen. GTK 4.8 sets no SHOWING state on
        widgets, but gives the pages a GtkStack does not show no size.
        (Window coordinates: GTK warns on screen ones under X11.)"""
        try:
            extents = node.queryComponent().getExtents(self.pyatspi.WINDOW_COORDS)
        except Exception:
            return False
        return extents.width > 0 and extents.height > 0

    def find_all(self, role=None, name=None, contains=None, showing=True):
        """Every node matching @role (a pyatspi ROLE_*), an exact @name or a
        name that @contains a text (or each text of a list); only those on
        screen unless @showing is False."""
        if isinstance(contains, str):
            contains = [contains]
        root = self.app()
        found = []
        if root is None:
            return found
        stack = [root]
        while stack:
            node = stack.pop()
            try:
                node_name = node.name or ''
                if ((role is None or node.getRole() == role) and
                        (name is None or node_name == name) and
                        (contains is None or all(text in node_name for text in contains)) and
                        (not showing or self.shown(node))):
                    found.append(node)
                stack.extend(node.getChildAtIndex(i) for i in range(node.childCount))
            except Exception:
                # A node that went away while walking.
                continue
        return found

    def find(self, **kwargs):
        nodes = self.find_all(**kwargs)
        return nodes[0] if nodes else None

    def wait(self, what, app, timeout=TIMEOUT, **kwargs):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            node = self.find(**kwargs)
            if node is not None:
                return node
            if app.poll() is not None:
                fail(f'eider exited with status {app.returncode} while waiting for {what}')
            time.sleep(0.2)
        log('the accessibility tree:')
        self.dump()
        if self.on_timeout is not None:
            self.on_timeout()
        fail(f'timed out waiting for {what}')

    def press(self, node, what):
        """Clicks @node, or the first node inside it that can be clicked (a
        GtkMenuButton's action is on its inner toggle button)."""
        queue = [node]
        names = []
        while queue:
            candidate = queue.pop(0)
            try:
                action = candidate.queryAction()
                for i in range(action.nActions):
                    names.append(action.getName(i))
                    if action.getName(i) in ('click', 'press', 'activate', 'toggle'):
                        try:
                            action.doAction(i)
                        except self.GLib.GError as error:
                            # No answer in time: the click may still have
                            # happened; what follows checks its effect.
                            if 'Did not receive a reply' not in str(error):
                                raise
                            log(f'{what}: the click got no answer in time ({error})')
                        return
            except NotImplementedError:
                pass
            queue.extend(candidate.getChildAtIndex(i) for i in range(candidate.childCount))
        fail(f'{what} has no click action ({names})')

    def dump(self):
        def walk(node, depth):
            try:
                print('#', '  ' * depth, node.getRoleName(), repr(node.name), flush=True)
                for i in range(node.childCount):
                    walk(node.getChildAtIndex(i), depth + 1)
            except Exception:
                pass
        root = self.app()
        if root is not None:
            walk(root, 0)


def host_pid(session):
    out = subprocess.run(['gdbus', 'call', '--session', '--dest', 'io.github.eiderapp.Eider.Engine',
                          '--object-path', '/io/github/eiderapp/Eider/Engine',
                          '--method', 'org.freedesktop.DBus.Properties.Get',
                          'io.github.eiderapp.Eider.Engine1', 'Pid'],
                         env=session_env(session), capture_output=True, text=True, timeout=TIMEOUT)
    if out.returncode != 0:
        return None
    # (<uint32 1234>,)
    return int(out.stdout.strip().split()[1].rstrip('>,)'))


def session_env(session):
    env = dict(os.environ)
    env['DBUS_SESSION_BUS_ADDRESS'] = session.bus_address
    return env


def quit_host(session):
    subprocess.run(['gdbus', 'call', '--session', '--dest', 'io.github.eiderapp.Eider.Engine',
                    '--object-path', '/io/github/eiderapp/Eider/Engine',
                    '--method', 'io.github.eiderapp.Eider.Engine1.Quit'],
                   env=session_env(session), capture_output=True, timeout=TIMEOUT)


def quit_app(session, app_id, app):
    activate(session, app_id, 'quit')
    status = app.wait(TIMEOUT)
    if status != 0:
        fail(f'eider exited with status {status} after app.quit')


def format_size(n):
    """As g_format_size: decimal units, one decimal, a no-break space."""
    if n < 1000:
        return f'{n}\u00a0bytes'
    for unit in ('kB', 'MB', 'GB', 'TB', 'PB'):
        n /= 1000
        if n < 1000 or unit == 'PB':
            return f'{n:.1f}\u00a0{unit}'


def config_get(eiderctl, env, key):
    return subprocess.run([eiderctl, 'config', 'get', key], env=env, check=True,
                          capture_output=True, text=True, timeout=TIMEOUT).stdout.strip()


def host_property(session, name):
    return subprocess.run(['gdbus', 'call', '--session', '--dest', 'io.github.eiderapp.Eider.Engine',
                           '--object-path', '/io/github/eiderapp/Eider/Engine',
                           '--method', 'org.freedesktop.DBus.Properties.Get',
                           'io.github.eiderapp.Eider.Engine1', name],
                          env=session_env(session), capture_output=True, text=True,
                          timeout=TIMEOUT).stdout.strip()


def set_value(a11y, node, value, what):
    """Sets a spin button through the AT-SPI Value interface."""
    node.queryValue().currentValue = value
    wait_for(lambda: node.queryValue().currentValue == value, f'{what} to be {value}')


def preferences(a11y, session, app_id, app, eiderctl, env, folder, shot):
    pyatspi = a11y.pyatspi
    activate(session, app_id, 'preferences')
    a11y.wait('the Preferences window', app, name='Preferences', role=pyatspi.ROLE_FRAME)
    bandwidth = a11y.wait('the upload speed limit', app, name='Upload Speed Limit',
                          role=pyatspi.ROLE_SPIN_BUTTON)
    if bandwidth.queryValue().currentValue != 120:
        fail(f'the upload speed limit shows {bandwidth.queryValue().currentValue}, not the '
             '120 KB/s eiderctl set')
    if bandwidth.queryValue().maximumValue != 10485760:
        fail(f'the upload speed limit goes to {bandwidth.queryValue().maximumValue}')
    metered = a11y.wait('the metered switch', app, name='Pause on Metered Networks',
                        role=pyatspi.ROLE_CHECK_BOX)
    battery = a11y.wait('the battery level', app, name='Pause on Low Battery',
                        role=pyatspi.ROLE_SPIN_BUTTON)
    if (battery.queryValue().minimumValue, battery.queryValue().maximumValue) != (0, 100):
        fail('the battery level does not go from 0 to 100')
    for name in ('Pause in Power Saver Mode', 'Keep the Computer Awake', 'Run in the Background',
                 'Start at Login'):
        a11y.wait(name, app, name=name, role=pyatspi.ROLE_CHECK_BOX)
    shot('eider-preferences.png')

    set_value(a11y, bandwidth, 0, 'the upload speed limit')
    if not metered.getState().contains(pyatspi.STATE_CHECKED):
        fail('pause-on-metered is on by default, the switch shows it off')
    a11y.press(metered, 'the metered switch')
    wait_for(lambda: not metered.getState().contains(pyatspi.STATE_CHECKED),
             'the metered switch to turn off', app)
    wait_for(lambda: config_get(eiderctl, env, 'bandwidth-limit') == '0',
             'eiderctl to read bandwidth-limit 0', app)
    wait_for(lambda: config_get(eiderctl, env, 'pause-on-metered') == 'false',
             'eiderctl to read pause-on-metered false', app)

    # The upload window, from two hours from now, for one hour: the host
    # holds a new photo back and says why; off again, the photo goes up.
    hours = a11y.wait('the upload window switch', app, name='Upload Only at Certain Hours',
                      role=pyatspi.ROLE_CHECK_BOX)
    a11y.press(hours, 'the upload window switch')
    start = a11y.wait('the upload window start', app, name='From', role=pyatspi.ROLE_SPIN_BUTTON)
    end = a11y.wait('the upload window end', app, name='Until', role=pyatspi.ROLE_SPIN_BUTTON)
    hour = time.localtime().tm_hour
    set_value(a11y, start, (hour + 2) % 24, 'the upload window start')
    set_value(a11y, end, (hour + 3) % 24, 'the upload window end')
    window = f'{(hour + 2) % 24:02}:00-{(hour + 3) % 24:02}:00'
    wait_for(lambda: config_get(eiderctl, env, 'upload-window') == window,
             f'eiderctl to read upload-window {window}', app)
    shot('eider-preferences-upload-window.png')

    subprocess.run(['convert', '-seed', '99', '-size', '1200x900', 'plasma:',
                    os.path.join(folder, 'IMG_late.jpg')], check=True)
    wait_for(lambda: 'Waiting for the upload window' in host_property(session, 'StateReason'),
             'the host to wait for the upload window', app)
    a11y.wait('the folder row to count the waiting photo', app,
              contains=['~/Pictures/Holidays', f'{N_PHOTOS} backed up · 1 left'], showing=False)

    a11y.press(hours, 'the upload window switch')
    wait_for(lambda: config_get(eiderctl, env, 'upload-window') == '',
             'eiderctl to read no upload window', app)
    a11y.wait('the waiting photo to go up', app, showing=False,
              contains=['~/Pictures/Holidays', f'{N_PHOTOS + 1} backed up · 0 left'])

    # Closed with Escape's action: the main window is back in front.
    close = a11y.find(name='Close', role=pyatspi.ROLE_PUSH_BUTTON)
    if close is None:
        fail('the Preferences window has no Close button')
    a11y.press(close, 'the Preferences Close button')
    wait_for(lambda: a11y.find(name='Upload Speed Limit', showing=False) is None,
             'the Preferences window to close', app)
    if (config_get(eiderctl, env, 'bandwidth-limit'), config_get(eiderctl, env, 'pause-on-metered')) \
            != ('0', 'false'):
        fail('the preferences did not persist after the window closed')


def main():
    if len(sys.argv) != 7:
        fail(f'usage: {sys.argv[0]} EIDER EIDERCTL EIDER_TEST_SERVER APP_ID SCHEMA_DIR OUTPUT_DIR')
    eider, eiderctl, server, app_id, schema_dir, output_dir = sys.argv[1:]
    for program in ('xwininfo', 'import', 'identify', 'gdbus', 'convert'):
        need(program)
    bus_launcher = '/usr/libexec/at-spi-bus-launcher'
    if not os.access(bus_launcher, os.X_OK):
        fail(f'{bus_launcher} not found (Debian package at-spi2-core)')

    tmpdir = tempfile.mkdtemp(prefix='eider-engine-window-')
    session = Session(tmpdir)
    app = None
    log('display', session.display, 'bus', session.bus_address)

    env = app_env(session, tmpdir, schema_dir)
    # The accessibility bus, which GTK and pyatspi find through the session
    # bus (org.a11y.Bus).
    env['GTK_A11Y'] = 'atspi'
    env.pop('NO_AT_BRIDGE', None)
    env['EIDER_CONFIG_DIR'] = os.path.join(tmpdir, 'eider-config')
    env['EIDER_DATA_DIR'] = os.path.join(tmpdir, 'eider-data')
    env['EIDER_RETRY_BASE_MS'] = '100'
    folder = os.path.join(tmpdir, 'Pictures', 'Holidays')

    def shot(name):
        path = os.path.join(output_dir, name)
        screenshot(session, 'root', path)
        log('screenshot', path)

    try:
        session.spawn([bus_launcher, '--launch-immediately'],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = start_server(session, server, tmpdir)
        log('server', url)
        a11y = Accessible(session)
        a11y.on_timeout = lambda: shot('eider-failure.png')
        app = subprocess.Popen(os.environ.get('EIDER_WRAPPER', '').split() + [eider], env=env)
        window = main_window(session, app)
        subprocess.run(['xdotool', 'windowmove', window, '0', '0'], env=env, capture_output=True)

        # No account yet: the host the window starts refuses to, and the
        # window says how to log in.
        a11y.wait('the log-in page', app, name='Not Logged In')
        shot('eider-not-logged-in.png')

        sign_up(eiderctl, env, url, tmpdir)
        make_photos(folder)
        # Slow enough uploads that files in flight can be seen.
        subprocess.run([eiderctl, 'config', 'set', 'bandwidth-limit', '120'], env=env, check=True,
                       capture_output=True, timeout=TIMEOUT)
        try_again = a11y.wait('the Try Again button', app, role=a11y.pyatspi.ROLE_PUSH_BUTTON,
                              contains='Try Again')
        a11y.press(try_again, 'Try Again')

        # The window started the host itself and is connected: the empty
        # Folders page.
        a11y.wait('the empty Folders page', app, name='No Folders Backed Up Yet')
        pid = wait_for(lambda: host_pid(session), 'the host on the session bus', app, TIMEOUT)
        log('host started by the window, pid', pid)

        activate(session, app_id, 'add-folder-path', parameter=f'<"{folder}">')
        a11y.wait('the folder row', app, name='Folder Menu for Holidays')

        # The Activity page while the files go up (the bandwidth limit makes
        # that last many seconds, even under AddressSanitizer), then once
        # they are all up.
        activity = a11y.wait('the Activity page switcher', app, name='Activity',
                             role=a11y.pyatspi.ROLE_PAGE_TAB)
        a11y.press(activity, 'the Activity switcher')
        a11y.wait('a file in flight', app, role=a11y.pyatspi.ROLE_PROGRESS_BAR)
        a11y.wait('the total left', app, contains=['file', 'left · '])
        shot('eider-activity-uploading.png')
        a11y.wait('the Activity page up to date', app, name='Up to Date')
        if a11y.find(role=a11y.pyatspi.ROLE_PROGRESS_BAR) is not None:
            fail('a progress bar stayed on the Activity page after the upload')
        a11y.wait('the Skipped section', app, name='Skipped')
        a11y.wait('the skipped file', app, name='notes.txt')
        shot('eider-activity.png')

        # The folder's row counts its files.
        folders = a11y.wait('the Folders page switcher', app, name='Folders',
                            role=a11y.pyatspi.ROLE_PAGE_TAB)
        a11y.press(folders, 'the Folders switcher')
        a11y.wait(f'the folder row to count {N_PHOTOS} backed up', app,
                  contains=['~/Pictures/Holidays', f'{N_PHOTOS} backed up · 0 left · 1 skipped'])
        shot('eider-folders.png')

        # Preferences (app.preferences): what is changed there is stored
        # where eiderctl and the host read it, and the running host follows.
        preferences(a11y, session, app_id, app, eiderctl, env, folder, shot)

        # The Account page: the account's email and server, and the storage
        # used against the quota.
        account = a11y.wait('the Account page switcher', app, name='Account',
                            role=a11y.pyatspi.ROLE_PAGE_TAB)
        a11y.press(account, 'the Account switcher')
        a11y.wait('the account\'s email', app, name=EMAIL)
        a11y.wait('the account\'s server', app, name=url)
        a11y.wait('the storage bar', app, role=a11y.pyatspi.ROLE_LEVEL_BAR)
        a11y.wait('the storage used against the quota', app, contains=[' of ', ' used'])
        shot('eider-account.png')

        def host_number(name):
            # (<uint64 1234>,)
            return int(host_property(session, name).split()[1].rstrip('>,)'))
        used, quota = host_number('StorageUsed'), host_number('StorageQuota')
        if not 0 < used < quota:
            fail(f'the host reports {used} bytes used of {quota}')
        # (GTK 4.8 gives AT-SPI no value for a level bar: the text is checked.)
        a11y.wait('the storage used against the quota', app,
                  name=f'{format_size(used)} of {format_size(quota)} used')
        log('storage', used, 'of', quota)
        a11y.press(folders, 'the Folders switcher')

        # Pause from the folder's menu: the banner says so.
        menu = a11y.wait('the folder menu button', app, name='Folder Menu for Holidays')
        a11y.press(menu, 'the folder menu button')
        pause = a11y.wait('Pause in the folder menu', app, name='Pause')
        a11y.press(pause, 'Pause')
        a11y.wait('the paused banner', app, contains='is paused')
        a11y.wait('the banner\'s Resume button', app, role=a11y.pyatspi.ROLE_PUSH_BUTTON,
                  contains='Resume')
        shot('eider-paused.png')

        # 360 pixels wide (a phone): the page switcher moves to a bar at the
        # bottom.
        subprocess.run(['xdotool', 'windowsize', window, '360', '640'], env=env, check=True,
                       capture_output=True)

        def switcher_at_bottom():
            for tab in a11y.find_all(role=a11y.pyatspi.ROLE_PAGE_TAB, name='Activity'):
                extents = tab.queryComponent().getExtents(a11y.pyatspi.WINDOW_COORDS)
                if extents.y > 400:
                    return True
            return False
        wait_for(switcher_at_bottom, 'the view switcher bar at 360 pixels wide', app)
        a11y.wait('the paused banner at 360 pixels wide', app, contains='is paused')
        shot('eider-narrow.png')

        # The host dies: no stale numbers, "Eider Stopped" and Start Again.
        os.kill(pid, signal.SIGKILL)
        a11y.wait('the host-lost page', app, name='Eider Stopped')
        if a11y.find(name='Folder Menu for Holidays') is not None:
            fail('the folder row stayed on screen after the host died')
        shot('eider-stopped.png')
        # GTK 4.8 names a button with a mnemonic "_Start Again Start Again".
        start = a11y.wait('the Start Again button', app, role=a11y.pyatspi.ROLE_PUSH_BUTTON,
                          contains='Start Again')
        a11y.press(start, 'Start Again')
        a11y.wait('the folder row after Start Again', app, name='Folder Menu for Holidays')
        a11y.wait('the paused banner after Start Again', app, contains='is paused')
        new_pid = wait_for(lambda: (p := host_pid(session)) and p != pid and p, 'a new host', app)
        log('host started again, pid', new_pid)

        # The banner's Resume resumes the folder: the banner goes.
        resume = a11y.wait('the banner\'s Resume button', app, role=a11y.pyatspi.ROLE_PUSH_BUTTON,
                           contains='Resume')
        a11y.press(resume, 'Resume')
        a11y.wait('the folder watched again', app, contains=['~/Pictures/Holidays', 'Watched live'])
        wait_for(lambda: a11y.find(contains='is paused') is None, 'the banner to go', app)

        # Stop Backing Up, from the folder's menu, asks first and says that
        # nothing in Ente is deleted; then the folder is gone.
        menu = a11y.wait('the folder menu button', app, name='Folder Menu for Holidays')
        a11y.press(menu, 'the folder menu button')
        stop = a11y.wait('Stop Backing Up in the folder menu', app, name='Stop Backing Up…')
        a11y.press(stop, 'Stop Backing Up…')
        a11y.wait('the question before stopping', app, contains='Nothing is deleted')
        shot('eider-stop-backing-up.png')
        confirm = a11y.wait('the dialog\'s Stop Backing Up button', app,
                            role=a11y.pyatspi.ROLE_PUSH_BUTTON, contains='Stop Backing Up')
        a11y.press(confirm, 'Stop Backing Up')
        a11y.wait('the empty Folders page after Stop Backing Up', app, name='No Folders Backed Up Yet')
        if a11y.find(name='Folder Menu for Holidays') is not None:
            fail('the folder row stayed after Stop Backing Up')

        # Log Out… on the Account page asks first (the keys leave this
        # computer, nothing in Ente is deleted); then the host has no
        # account and the window shows how to log in.
        account = a11y.wait('the Account page switcher', app, name='Account',
                            role=a11y.pyatspi.ROLE_PAGE_TAB)
        a11y.press(account, 'the Account switcher')
        logout = a11y.wait('the Log Out button', app, role=a11y.pyatspi.ROLE_PUSH_BUTTON,
                           contains='Log Out…')
        a11y.press(logout, 'Log Out…')
        a11y.wait('the question before logging out', app, contains='Nothing in Ente is deleted')
        shot('eider-log-out.png')
        confirm = [b for b in a11y.find_all(role=a11y.pyatspi.ROLE_PUSH_BUTTON, contains='Log Out')
                   if 'Log Out…' not in b.name]
        if not confirm:
            fail('the log-out dialog has no Log Out button')
        a11y.press(confirm[0], 'Log Out')
        a11y.wait('the log-in page after Log Out', app, name='Not Logged In')
        wait_for(lambda: host_property(session, 'AccountEmail') == "(<''>,)",
                 'the host to have no account', app)
        status = subprocess.run([eiderctl, 'account', 'status'], env=env, capture_output=True,
                                text=True, timeout=TIMEOUT)
        if EMAIL in status.stdout:
            fail(f'eiderctl account status still shows the account: {status.stdout}')

        # Done: the host stops, the window quits.
        quit_host(session)
        a11y.wait('the host-lost page after Quit', app, name='Eider Stopped')
        quit_app(session, app_id, app)

        # Another account, whose subscription has expired: the host holds
        # the uploads, and the banner says why in the host's words.
        env['EIDER_CONFIG_DIR'] = os.path.join(tmpdir, 'expired-config')
        env['EIDER_DATA_DIR'] = os.path.join(tmpdir, 'expired-data')
        url = start_server(session, server, os.path.join(tmpdir, 'expired'), ['--no-subscription'])
        sign_up(eiderctl, env, url, tmpdir)
        expired = os.path.join(tmpdir, 'Pictures', 'Expired')
        make_photos(expired, 1)
        subprocess.run([eiderctl, 'watch', 'add', expired], env=env, check=True,
                       capture_output=True, timeout=TIMEOUT)
        # In dark style this time (libadwaita 1.2 reads ADW_DEBUG_COLOR_SCHEME).
        app = subprocess.Popen([eider], env=dict(env, ADW_DEBUG_COLOR_SCHEME='prefer-dark'))
        main_window(session, app)
        a11y.wait('the folder added by eiderctl', app, name='Folder Menu for Expired')
        a11y.wait('the banner for the expired subscription', app,
                  contains='subscription has expired')
        shot('eider-subscription-expired-dark.png')
        quit_host(session)
        a11y.wait('the host-lost page after Quit', app, name='Eider Stopped')
        quit_app(session, app_id, app)
        app = None
    finally:
        if app is not None and app.poll() is None:
            app.kill()
            app.wait()
        # A host left by a failure: it is not the session's child.
        left = host_pid(session)
        if left:
            os.kill(left, signal.SIGKILL)
        session.close()
        shutil.rmtree(tmpdir, ignore_errors=True)

    print('PASS', flush=True)


if __name__ == '__main__':
    main()
