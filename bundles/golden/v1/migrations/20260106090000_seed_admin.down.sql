DELETE FROM accounts WHERE email = '${admin_email}';
