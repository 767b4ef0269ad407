# -*- coding: utf-8 -*-
# put: copy one file from the controller to the target with no Python on the target.
#
# ansible.builtin.copy runs Python modules on the target (stat, copy). This action runs on the
# controller and uses only the connection's own file transfer and a few POSIX commands on
# the target (sh, mkdir, sha256sum, chmod, mv): the target's SHA-256 of dest is compared
# with the controller's file, the file is sent only when they differ, checked again on the
# target after the transfer, and renamed into place, so a partial transfer never stands at
# dest. The sealift applier verifies signatures and checksums again before anything runs.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shlex

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase


def _sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


class ActionModule(ActionBase):

    TRANSFERS_FILES = True
    _VALID_ARGS = frozenset(('src', 'dest', 'mode', 'checksum'))
    _requires_connection = True

    def _sh(self, cmd):
        res = self._low_level_execute_command(cmd, sudoable=True)
        return res.get('rc', 1), to_text(res.get('stdout', '')), to_text(res.get('stderr', ''))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp

        src = self._task.args.get('src')
        dest = self._task.args.get('dest')
        mode = str(self._task.args.get('mode', '0644'))
        want = self._task.args.get('checksum')
        if not src or not dest:
            raise AnsibleActionFail('src and dest are required')
        if not mode.isdigit() or len(mode) not in (3, 4) or any(c > '7' for c in mode):
            raise AnsibleActionFail('mode must be octal digits such as 0644, not %r' % mode)
        try:
            src = self._find_needle('files', src)
        except AnsibleError as e:
            raise AnsibleActionFail(to_text(e))
        sha = _sha256(src)
        if want and want.lower() != sha:
            raise AnsibleActionFail('%s has SHA-256 %s, not the expected %s' % (src, sha, want))
        result.update(src=src, dest=dest, checksum=sha, mode=mode.zfill(4))

        q = shlex.quote(dest)
        rc, out, err = self._sh('sha256sum -- %s 2>/dev/null && stat -c %%a -- %s' % (q, q))
        fields = out.split()
        if rc == 0 and len(fields) >= 3 and fields[0] == sha and \
                fields[-1].zfill(4) == mode.zfill(4):
            result['changed'] = False
            return result
        result['changed'] = True
        if self._play_context.check_mode:
            result['msg'] = 'would put %s at %s' % (src, dest)
            return result

        self._make_tmp_path()
        try:
            tmp_src = self._connection._shell.join_path(self._connection._shell.tmpdir, 'source')
            self._transfer_file(src, tmp_src)
            self._fixup_perms2((self._connection._shell.tmpdir, tmp_src))
            part = shlex.quote(dest + '.part')
            script = (
                'set -e; umask 022; mkdir -p -- {d}; '
                'got=$(sha256sum -- {t} | cut -d" " -f1); '
                'if [ "$got" != {s} ]; then echo "checksum mismatch after transfer: $got" >&2; '
                'exit 3; fi; '
                'cp -- {t} {p}; chmod {m} -- {p}; mv -f -- {p} {q}; '
                'got=$(sha256sum -- {q} | cut -d" " -f1); [ "$got" = {s} ]'
            ).format(d=shlex.quote(os.path.dirname(dest) or '.'), t=shlex.quote(tmp_src),
                     s=sha, p=part, m=mode, q=q)
            rc, out, err = self._sh("sh -c %s" % shlex.quote(script))
            if rc != 0:
                raise AnsibleActionFail('could not put %s at %s on the target: %s'
                                        % (src, dest, (err or out).strip() or 'exit %d' % rc))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        result['msg'] = 'put %s at %s (SHA-256 %s)' % (src, dest, sha)
        return result
