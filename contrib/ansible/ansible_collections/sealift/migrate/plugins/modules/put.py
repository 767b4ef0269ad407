# -*- coding: utf-8 -*-
# Documentation only: sealift.migrate.put is an action plugin (plugins/action/put.py) that
# runs on the controller; nothing of this file runs on the target.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: put
short_description: Copy a file to the target with no Python there, checked by SHA-256
version_added: 0.1.0
author:
  - sealift developers
description:
  - Copies one file from the controller to the target using only the connection's file
    transfer and POSIX commands on the target (C(sh), C(mkdir), C(sha256sum), C(cp),
    C(chmod), C(mv)). Works on targets without Python, where M(ansible.builtin.copy) cannot.
  - Idempotent - nothing is sent when the target's file already has the same SHA-256 and mode.
  - After the transfer the SHA-256 is checked again on the target before the file is renamed
    into place, so a partial or damaged transfer never stands at O(dest).
options:
  src:
    description: The file on the controller (looked up in the role's or play's C(files) too).
    type: path
    required: true
  dest:
    description: The path on the target (its directory is created).
    type: path
    required: true
  mode:
    description: Octal permissions of O(dest).
    type: str
    default: '0644'
  checksum:
    description: Expected SHA-256 of O(src); the task fails before sending anything if it differs.
    type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - Owner, group and SELinux context are not managed; use M(ansible.builtin.copy) where the
    target has Python and they matter.
'''

EXAMPLES = r'''
- name: Put the static applier on a host without Python
  sealift.migrate.put:
    src: dist/sealift-apply
    dest: /opt/sealift/bin/sealift-apply
    mode: '0755'
'''

RETURN = r'''
checksum:
  description: SHA-256 of the file.
  returned: always
  type: str
dest:
  description: The path on the target.
  returned: always
  type: str
'''
