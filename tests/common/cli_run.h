#pragma once
// Running the real qat-cli executable from a Qt test: exit code, stdout, stderr, and the
// JSON lines of --json output.
#include <QByteArray>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QStringList>

namespace qat::test {

struct Run {
  int exitCode = -1;
  QByteArray out, err;
};

inline Run cli(const QStringList& args, int timeoutMs = 120000) {
  QProcess p;
  p.start(QStringLiteral(QAT_CLI_PATH), args);
  Run r;
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished();
    r.err = "timed out";
    return r;
  }
  r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = p.readAllStandardOutput();
  r.err = p.readAllStandardError();
  return r;
}

inline QList<QJsonObject> jsonLines(const QByteArray& out) {
  QList<QJsonObject> objs;
  for (const QByteArray& line : out.split('\n')) {
    if (line.trimmed().isEmpty()) continue;
    const auto doc = QJsonDocument::fromJson(line);
    if (doc.isObject()) objs << doc.object();
  }
  return objs;
}

// The last {"event": "summary"} object, or an empty one.
inline QJsonObject summaryOf(const QByteArray& out) {
  QJsonObject s;
  for (const auto& e : jsonLines(out))
    if (e[QStringLiteral("event")] == QStringLiteral("summary")) s = e;
  return s;
}

inline bool haveFashionMnist() {
  return QFileInfo::exists(QStringLiteral(QAT_FASHION_MNIST_DIR "/train-labels-idx1-ubyte.gz"));
}

}  // namespace qat::test
