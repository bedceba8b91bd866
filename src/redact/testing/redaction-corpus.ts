/**
 * The redaction corpus (docs/context.md, "Redaction"): lines as people type them and as programs
 * print them. POSITIVE lines each hold one or more secrets that must not survive redact();
 * NEGATIVE lines are ordinary terminal text that must come out unchanged. redact-corpus.test.ts
 * measures both rates and docs/context.md reports them.
 *
 * Provider-shaped secrets are assembled at run time (`cat`): written out whole, they would trip the
 * secret scanners of the places this repository is pushed to. None of them is real.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';

/** A line holding secrets. */
export interface PositiveCase {
  /** What kind of line it is, for the report (`mysql -pPASSWORD`, `.netrc`, …). */
  form: string;
  line: string;
  /** Every secret in the line: none of them may appear in the redacted text. */
  secrets: string[];
  /** Parts of the line that must stay readable (the command, the user, the host). */
  kept?: string[];
}

const cat = (...parts: string[]): string => parts.join('');
/** Deterministic base64 of `bytes` bytes, a stand-in for a generated key. */
const b64 = (seed: string, bytes: number): string => createHash('sha512').update(seed).digest().subarray(0, bytes).toString('base64');
/** Deterministic URL-safe characters, `n` of them. */
const chars = (seed: string, n: number): string => {
  let out = '';
  for (let i = 0; out.length < n; i++) out += createHash('sha256').update(`${seed}${i}`).digest('base64url');
  return out.slice(0, n);
};
/** Like `chars`, letters and digits only (GitHub, Slack, npm and Stripe tokens have no `-` or `_`). */
const alnum = (seed: string, n: number): string => chars(seed, 2 * n).replace(/[-_]/g, '').slice(0, n);

const GITHUB = cat('ghp', '_', alnum('gh', 36));
const GITHUB_APP = cat('ghs', '_', alnum('ghs', 36));
const GITLAB = cat('glpat', '-', chars('gl', 20));
const GITLAB_RUNNER = cat('glrt', '-', chars('glrt', 20));
const SLACK_BOT = cat('xoxb', '-', '2210987654321-1234567890123-', alnum('sl', 24));
const SLACK_APP = cat('xapp', '-1-A0123456789-', '1234567890123-', alnum('sa', 64).toLowerCase());
const NPM = cat('npm', '_', alnum('npm', 36));
const PYPI = cat('pypi', '-AgEIcHlwaS5vcmc', chars('pypi', 70));
const DOCKER_PAT = cat('dckr', '_pat_', chars('dckr', 27));
const AWS_ID = cat('AKIA', 'Z7QH2M4KX9PLR3TW');
const AWS_SECRET = cat('Xq8/hT3v', b64('aws', 24).slice(0, 28), 'Ev3K').replace(/=/g, 'A');
const AWS_SESSION = cat('IQoJb3JpZ2luX2Vj', b64('sts', 60));
const GCP_API = cat('AIza', 'Sy', chars('gcp', 33));
const GCP_OAUTH_SECRET = cat('GOCSPX', '-', chars('gocspx', 28));
const AZURE_KEY = b64('azure', 64); // a storage account key: 64 bytes, 88 base64 characters
const AZURE_SAS_SIG = encodeURIComponent(b64('sas', 32));
const AZURE_CLIENT_SECRET = cat('xYz8Q', '~', chars('azsp', 34));
const STRIPE = cat('sk', '_live_', alnum('stripe', 24));
const OPENAI = cat('sk-proj-', chars('openai', 40));
const ANTHROPIC = cat('sk-ant-', 'api03-', chars('anthropic', 80));
const VAULT = cat('hvs', '.', chars('vault', 24));
const JWT = [cat('eyJhbGciOiJSUzI1NiIsImtpZCI6', 'Ik1rYWJjIn0'), cat('eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwic3ViIjoi', 'c3lzdGVtOnNhOmRlZmF1bHQifQ'), chars('sig', 86)].join('.');
const BASIC = Buffer.from('aladdin:OpenSesame42').toString('base64');
const DOCKER_AUTH = Buffer.from('bob:D0ckerHubPass').toString('base64');
const KUBE_CLIENT_KEY = Buffer.from(cat('-----BEGIN RSA ', 'PRIVATE KEY-----\n', b64('kube', 48), '\n')).toString('base64');

/** A real PEM private key (RSA 1024, generated per run), and its base64 body lines. */
function pemKey(type: 'pkcs1' | 'pkcs8'): { pem: string; body: string[] } {
  const pem = generateKeyPairSync('rsa', { modulusLength: 1024, privateKeyEncoding: { type, format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
  return { pem, body: pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----')) };
}
const RSA = pemKey('pkcs1');
const PKCS8 = pemKey('pkcs8');

export const POSITIVE: readonly PositiveCase[] = [
  // Passwords given to database clients on the command line.
  { form: 'mysql -pPASSWORD', line: '$ mysql -u root -pMyS3cretMysql', secrets: ['MyS3cretMysql'], kept: ['mysql -u root -p'] },
  { form: 'mysqldump -p\'PASSWORD\'', line: "$ mysqldump -uroot -p'Dump#Pass42' shop > shop.sql", secrets: ['Dump#Pass42'], kept: ['shop > shop.sql'] },
  { form: 'docker exec … mysql -pPASSWORD', line: '$ docker exec -it db mysql -uapp -pAppPw2024 app', secrets: ['AppPw2024'] },
  { form: 'mysql --password=', line: '$ mysql -h db.internal -u app --password=Xk9mq2Lr7v mydb', secrets: ['Xk9mq2Lr7v'], kept: ['mydb'] },
  { form: 'MYSQL_PWD=', line: '$ MYSQL_PWD=myPwd2024 mysql -u root -e "show databases"', secrets: ['myPwd2024'] },
  { form: 'PGPASSWORD=', line: '$ PGPASSWORD=pgS3cretPw psql -h localhost -U postgres', secrets: ['pgS3cretPw'], kept: ['psql -h localhost'] },
  { form: 'mongosh -p PASSWORD', line: '$ mongosh --host db -u admin -p M0ngoPass2 --authenticationDatabase admin', secrets: ['M0ngoPass2'] },
  { form: 'redis-cli -a PASSWORD', line: '$ redis-cli -h cache -p 6379 -a R3disAuthPw ping', secrets: ['R3disAuthPw'], kept: ['-p 6379'] },
  { form: 'sqlcmd -P PASSWORD', line: "$ sqlcmd -S tcp:db,1433 -U sa -P 'SqlServerPw1!' -Q 'SELECT 1'", secrets: ['SqlServerPw1!'] },
  { form: 'ldapsearch -w PASSWORD', line: '$ ldapsearch -x -D "cn=admin,dc=example,dc=org" -w LdapAdm1n -b dc=example,dc=org', secrets: ['LdapAdm1n'] },
  // Registries, remote logins, archives, keystores.
  { form: 'docker login -p PASSWORD', line: '$ docker login -u bob -p D0ckerHubPass', secrets: ['D0ckerHubPass'], kept: ['docker login -u bob -p'] },
  { form: 'podman login --password PASSWORD', line: '$ podman login quay.io --username bob --password Qu4yPassw0rd', secrets: ['Qu4yPassw0rd'] },
  { form: 'helm registry login -p', line: '$ helm registry login registry.example.com -u ci -p H3lmRegPw', secrets: ['H3lmRegPw'] },
  { form: "sshpass -p 'PASSWORD'", line: "$ sshpass -p 'SshPassW0rd' ssh admin@10.0.0.5", secrets: ['SshPassW0rd'], kept: ['ssh admin@10.0.0.5'] },
  { form: 'sshpass -p PASSWORD ssh -p PORT', line: "$ sshpass -p 'Sshpa55' ssh -p 2222 deploy@bastion", secrets: ['Sshpa55'], kept: ['ssh -p 2222 deploy@bastion'] },
  { form: 'sshpass -pPASSWORD', line: '$ sshpass -pS3cr3tInline scp -P 2222 f.txt host:', secrets: ['S3cr3tInline'], kept: ['scp -P 2222'] },
  { form: 'smbclient -U user%PASSWORD', line: '$ smbclient //fs/share -U bob%SmbPassw0rd', secrets: ['SmbPassw0rd'], kept: ['-U bob%'] },
  { form: 'lftp -u user,PASSWORD', line: '$ lftp -u deploy,FtpDepl0y ftp.example.com', secrets: ['FtpDepl0y'], kept: ['-u deploy,'] },
  { form: 'xfreerdp /p:PASSWORD', line: '$ xfreerdp /v:win01 /u:Administrator /p:RdpPassw0rd', secrets: ['RdpPassw0rd'] },
  { form: 'htpasswd -b FILE USER PASSWORD', line: '$ htpasswd -b /etc/nginx/.htpasswd alice Al1ceWebPw', secrets: ['Al1ceWebPw'], kept: ['alice'] },
  { form: 'openssl pass:PASSWORD', line: '$ openssl pkcs12 -export -in cert.pem -inkey key.pem -passout pass:P12ExportPw -out cert.p12', secrets: ['P12ExportPw'] },
  { form: 'keytool -storepass PASSWORD', line: '$ keytool -list -keystore app.jks -storepass Jks5torePw', secrets: ['Jks5torePw'] },
  { form: 'zip -P PASSWORD', line: '$ zip -P Z1pArchivePw -r backup.zip docs/', secrets: ['Z1pArchivePw'], kept: ['backup.zip docs/'] },
  { form: 'echo PASSWORD | sudo -S', line: "$ echo 'Sud0Passw0rd' | sudo -S apt-get update", secrets: ['Sud0Passw0rd'], kept: ['sudo -S apt-get update'] },
  { form: 'echo user:PASSWORD | chpasswd', line: "$ echo 'deploy:Chpa55wd' | sudo chpasswd", secrets: ['Chpa55wd'], kept: ['deploy:'] },
  { form: 'az login -p SECRET', line: `$ az login --service-principal -u 0f8fad5b-d9cb-469f-a165-70867728950e -p ${AZURE_CLIENT_SECRET} --tenant contoso.onmicrosoft.com`, secrets: [AZURE_CLIENT_SECRET] },
  { form: 'mvn -Dprop.password=', line: '$ mvn deploy -Dgpg.passphrase=GpgPassphr4se -Drepo.password=Rep0Passw0rd', secrets: ['GpgPassphr4se', 'Rep0Passw0rd'] },
  { form: 'curl -u user:PASSWORD', line: '$ curl -u admin:Adm1nPass https://jenkins.example.com/api/json', secrets: ['Adm1nPass'], kept: ['admin:'] },
  { form: 'wget --password=', line: '$ wget --user=bob --password=WgetPass77 https://files.example.com/a.tgz', secrets: ['WgetPass77'] },
  { form: 'mount -o password=', line: '$ sudo mount -t cifs //nas/media /mnt -o username=bob,password=CifsPassw0rd', secrets: ['CifsPassw0rd'] },
  { form: 'kubectl --from-literal=password=', line: '$ kubectl create secret generic db --from-literal=username=app --from-literal=password=K8sLiteralPw', secrets: ['K8sLiteralPw'] },
  // Credential files.
  { form: '.netrc', line: 'machine api.example.com login bob password NetrcPassw0rd', secrets: ['NetrcPassw0rd'], kept: ['machine api.example.com login bob password'] },
  { form: '.netrc (one key a line)', line: 'machine git.example.com\n  login ci\n  password Netrc2ndPassw0rd', secrets: ['Netrc2ndPassw0rd'] },
  { form: '.pgpass', line: 'db.example.com:5432:appdb:appuser:PgPassF1le', secrets: ['PgPassF1le'], kept: ['db.example.com:5432:appdb:appuser:'] },
  { form: '.my.cnf', line: '[client]\nuser=root\npassword="MyCnfPassw0rd"', secrets: ['MyCnfPassw0rd'] },
  { form: '~/.docker/config.json auth', line: `{"auths": {"https://index.docker.io/v1/": {"auth": "${DOCKER_AUTH}"}}}`, secrets: [DOCKER_AUTH] },
  { form: '.npmrc _authToken', line: `//registry.npmjs.org/:_authToken=${NPM}`, secrets: [NPM] },
  { form: '.pypirc password = pypi-…', line: `[pypi]\nusername = __token__\npassword = ${PYPI}`, secrets: [PYPI] },
  { form: 'twine upload -p pypi-…', line: `$ twine upload -u __token__ -p ${PYPI} dist/*`, secrets: [PYPI] },
  { form: 'docker login -p dckr_pat_…', line: `$ echo ${DOCKER_PAT} | docker login -u bob --password-stdin`, secrets: [DOCKER_PAT] },
  // HTTP.
  { form: 'Authorization: Bearer', line: `> Authorization: Bearer ${chars('bearer', 40)}`, secrets: [chars('bearer', 40)], kept: ['Authorization: Bearer '] },
  { form: 'Authorization: Basic', line: `> Authorization: Basic ${BASIC}`, secrets: [BASIC], kept: ['Authorization: Basic '] },
  { form: 'curl -H "Authorization: token …"', line: `$ curl -H "Authorization: token ${GITHUB}" https://api.github.com/user`, secrets: [GITHUB] },
  { form: 'X-API-Key header', line: `$ curl -H 'X-API-Key: ${chars('xapi', 32)}' https://api.example.com/v2/items`, secrets: [chars('xapi', 32)] },
  { form: 'basic auth in a URL', line: '$ git clone https://bob:Gi7CloneP4ss@git.example.com/team/app.git', secrets: ['Gi7CloneP4ss'], kept: ['https://bob:', '@git.example.com/team/app.git'] },
  { form: 'database URL', line: 'DATABASE_URL=postgres://app:Pg5ecretUrl@db.internal:5432/prod', secrets: ['Pg5ecretUrl'] },
  { form: 'mongodb+srv URL', line: '$ mongosh "mongodb+srv://admin:M0ngoSrvPw@cluster0.abcde.mongodb.net/test"', secrets: ['M0ngoSrvPw'] },
  { form: 'token in a query string', line: 'GET https://api.example.com/v1/export?format=csv&access_token=Qw3rtyT0kenValue HTTP/1.1', secrets: ['Qw3rtyT0kenValue'], kept: ['format=csv'] },
  // Cloud providers.
  { form: 'AWS access key id + secret', line: `aws_access_key_id = ${AWS_ID}\naws_secret_access_key = ${AWS_SECRET}`, secrets: [AWS_ID, AWS_SECRET] },
  { form: 'AWS env', line: `$ export AWS_ACCESS_KEY_ID=${AWS_ID} AWS_SECRET_ACCESS_KEY=${AWS_SECRET}`, secrets: [AWS_ID, AWS_SECRET] },
  { form: 'aws sts JSON', line: `"AccessKeyId": "${cat('ASIA', 'Q3K7TQ2ZL5MW8RXN')}", "SecretAccessKey": "${AWS_SECRET}", "SessionToken": "${AWS_SESSION}"`, secrets: [cat('ASIA', 'Q3K7TQ2ZL5MW8RXN'), AWS_SECRET, AWS_SESSION] },
  { form: 'GCP service account private_key', line: JSON.stringify({ type: 'service_account', project_id: 'demo', private_key: PKCS8.pem }), secrets: PKCS8.body },
  { form: 'GCP API key AIza…', line: `$ curl "https://maps.googleapis.com/maps/api/geocode/json?address=Paris&key=${GCP_API}"`, secrets: [GCP_API] },
  { form: 'GCP OAuth client secret GOCSPX-…', line: `client secret: ${GCP_OAUTH_SECRET}`, secrets: [GCP_OAUTH_SECRET] },
  { form: 'Azure storage connection string', line: `DefaultEndpointsProtocol=https;AccountName=mystore;AccountKey=${AZURE_KEY};EndpointSuffix=core.windows.net`, secrets: [AZURE_KEY], kept: ['AccountName=mystore'] },
  { form: 'az --account-key', line: `$ az storage blob list --account-name mystore --account-key ${AZURE_KEY} -c logs`, secrets: [AZURE_KEY] },
  { form: 'Azure SAS token sig=', line: `https://mystore.blob.core.windows.net/logs/app.log?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-01T00:00:00Z&sig=${AZURE_SAS_SIG}`, secrets: [AZURE_SAS_SIG] },
  // Tokens with a known shape.
  { form: 'GitHub token', line: `$ gh auth status\n  ✓ Token: ${GITHUB}`, secrets: [GITHUB] },
  { form: 'GitHub app token in a URL', line: `remote: https://x-access-token:${GITHUB_APP}@github.com/org/repo.git`, secrets: [GITHUB_APP], kept: ['https://x-access-token:', '@github.com/org/repo.git'] },
  { form: 'GitLab PAT', line: `$ curl --header "PRIVATE-TOKEN: ${GITLAB}" https://gitlab.example.com/api/v4/projects`, secrets: [GITLAB] },
  { form: 'GitLab runner token', line: `$ gitlab-runner register --url https://gitlab.com --token ${GITLAB_RUNNER}`, secrets: [GITLAB_RUNNER] },
  { form: 'Slack bot token', line: `SLACK_BOT=${SLACK_BOT}`, secrets: [SLACK_BOT] },
  { form: 'Slack app token', line: `socket mode with ${SLACK_APP}`, secrets: [SLACK_APP] },
  { form: 'npm token', line: `$ npm config set //registry.npmjs.org/:_authToken ${NPM}`, secrets: [NPM] },
  { form: 'Stripe live key', line: `Stripe.api_key = "${STRIPE}"`, secrets: [STRIPE] },
  { form: 'OpenAI key', line: `$ export OPENAI_API_KEY=${OPENAI}`, secrets: [OPENAI] },
  { form: 'Anthropic key', line: `x-api-key: ${ANTHROPIC}`, secrets: [ANTHROPIC] },
  { form: 'Vault token', line: `$ vault login ${VAULT}`, secrets: [VAULT] },
  { form: 'JWT alone', line: `id_token ${JWT}`, secrets: [JWT] },
  // Kubernetes.
  { form: 'kubeconfig token', line: `users:\n- name: sa\n  user:\n    token: ${JWT}`, secrets: [JWT] },
  { form: 'kubeconfig client-key-data', line: `    client-key-data: ${KUBE_CLIENT_KEY}`, secrets: [KUBE_CLIENT_KEY], kept: ['client-key-data: '] },
  { form: 'kubeadm join --token', line: '$ kubeadm join 10.0.0.10:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:8f2e', secrets: ['abcdef.0123456789abcdef'], kept: ['sha256:8f2e'] },
  { form: 'kubectl get secret -o yaml', line: 'data:\n  password: UzNjcmV0SzhzUGFzcw==', secrets: ['UzNjcmV0SzhzUGFzcw=='] },
  // Private keys.
  { form: 'RSA private key (PEM)', line: `$ cat ~/.ssh/id_rsa\n${RSA.pem}`, secrets: RSA.body },
];

/** Ordinary terminal text: every line must come out of redact() unchanged. */
export const NEGATIVE: readonly string[] = [
  // Hashes, ids, digests.
  'commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f',
  '4babd1d status: count the store\'s bytes with the store\'s own dirBytes',
  'Merge: 1a2b3c4 5d6e7f8',
  'id 123e4567-e89b-12d3-a456-426614174000',
  'f3a2b1c0d9e8   nginx:1.25   "/docker-entrypoint.…"   Up 2 hours   0.0.0.0:8080->80/tcp   web',
  'Digest: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  `"integrity": "sha512-${b64('lockfile', 64)}"`,
  '256 SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8 me@box (ED25519)',
  `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${chars('pub', 43)} me@box`,
  '-----BEGIN CERTIFICATE-----',
  'arn:aws:iam::123456789012:role/deploy',
  // Base64 in test data.
  'expect(decode("SGVsbG8sIFdvcmxkIQ==")).toBe("Hello, World!")',
  `const fixture = "${b64('fixture', 30)}";`,
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk',
  // Paths.
  '/usr/lib/x86_64-linux-gnu/libssl.so.3',
  '/home/me/.ssh/id_ed25519.pub',
  'src/llm/redact-rules.ts:42:7: error TS2322',
  // Ordinary short flags that are not passwords.
  '$ ls -p /etc',
  "$ grep -P '\\d{3}-\\d{4}' contacts.txt",
  '$ gcc -Wall -pedantic -O2 -o x x.c',
  '$ cp -p notes.txt /backup/',
  '$ ssh -p 2222 deploy@bastion.example.com',
  '$ mkdir -p build/out',
  '$ scp -P 2222 file.tgz host:/tmp/',
  '$ rsync -avP src/ host:dst/',
  '$ docker run -d -p 8080:80 --name web nginx',
  '$ psql -p 5433 -h db -U app appdb',
  '$ redis-cli -h cache -p 6379 ping',
  '$ mysql -u root -p mydb',
  '$ ps -p 1234 -o pid,cmd',
  '$ nc -l -p 4444',
  '$ ldapsearch -x -W -D "cn=admin,dc=example,dc=org"',
  '$ unzip -l backup.zip',
  '$ echo "$CR_PAT" | docker login ghcr.io -u bob --password-stdin',
  '$ mysql -u root -p"$MYSQL_ROOT_PASSWORD"',
  '$ sshpass -e ssh deploy@host',
  '$ openssl req -new -key key.pem -passin env:KEY_PASS -out req.csr',
  // Numbers and times.
  'Total: 1234567890 bytes in 4821 files',
  'real\t0m1.234s',
  '2026-11-21T12:00:00Z  PID 48213  10.0.0.5:5432',
  'fe80::1ff:fe23:4567:890a',
  '-rw-r--r-- 1 bob bob 4096 Nov 21 12:00 notes.txt',
  'root:x:0:0:root:/root:/bin/bash',
  'web-7d4b9c8f6-x2kqp   1/1   Running   0   3h',
  // URLs without credentials.
  'https://github.com/org/repo/pull/123',
  'https://example.com/search?q=token&page=2',
  'git@github.com:me/repo.git',
  'ssh://git@gitlab.com:2222/group/proj.git',
  'http://localhost:8080/api/v1/users?id=42',
  'https://registry.npmjs.org:443/@types/node',
  // Words about secrets, not secrets.
  'Enter password:',
  "Password for 'https://bob@github.com':",
  'sudo: 3 incorrect password attempts',
  'passwd: password updated successfully',
  'password   requisite   pam_pwquality.so retry=3',
  'PASSWORD_MIN_LENGTH=8',
  'SyntaxError: Unexpected token: }',
  'max_tokens=1024 PRIMARY_KEY=id',
  '"token_type": "Bearer", "expires_in": 3600',
  'Bearer authentication failed',
  "x.c:12:5: error: expected ';' before '}' token",
  'export GITHUB_TOKEN=$(gh auth token)',
  // Near the command-line and credential-file rules, and not secrets.
  '  -p, --password[=name] Password to use when connecting to server.',
  'WARNING! Using --password via the CLI is insecure. Use --password-stdin.',
  '$ cat ~/.ghcr-token | docker login --password-stdin ghcr.io -u bob',
  '$ gh auth login --with-token < ~/.gh-token',
  '$ docker login ghcr.io',
  '$ htpasswd -c /etc/nginx/.htpasswd alice',
  '$ smbclient -L //fs -U bob',
  '$ lftp -u deploy ftp.example.com',
  '$ sshpass -f ~/.pw ssh -p 2222 host',
  '$ mysqladmin -u root -p status',
  '$ echo "deb http://deb.debian.org/debian bookworm main" | sudo tee -a /etc/apt/sources.list',
  "$ printf '%s\n' b a | sort -S 1G",
  '$ openssl enc -d -aes-256-cbc -pbkdf2 -in secrets.enc -out secrets.txt',
  '$ unzip -o -q file.zip -d out',
  '$ az login --use-device-code',
  '$ cmake -DCMAKE_BUILD_TYPE=Release -DWITH_SSL=ON ..',
  'deploy ALL=(root) NOPASSWD: /usr/bin/systemctl restart web',
  'machine learning engineers use password managers',
  'password changed.',
  '"auth": "required", "authType": "basic"',
  `    client-certificate-data: ${Buffer.from(cat('-----BEGIN CERTIFICATE-----\n', b64('cert', 48))).toString('base64')}`,
  'localhost:5432 is already in use',
];
