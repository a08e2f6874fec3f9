// Autosave and crash recovery (see autosave.h). Threading: everything but the worker's
// lambda runs on the GUI thread; the worker owns only its snapshot and file names and
// reports back through a queued call, so the Autosaver's state needs no lock.
#include "ui/autosave.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <span>

#ifdef Q_OS_UNIX
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#endif

#include "engine/data/file_io.h"
#include "engine/project/project.h"
#include "ui/main_window.h"
#include "ui/project_document.h"

namespace qat::ui {
namespace {

constexpr int kMetaVersion = 1;
const QString kPrefix = QStringLiteral("autosave-");

QSettings appSettings() {
  return QSettings(QString::fromUtf8(MainWindow::kOrganization), QString::fromUtf8(MainWindow::kApplication));
}

qint64 ownPid() { return QCoreApplication::applicationPid(); }

// Identifies this boot of the machine, so a pid recorded before a reboot (and now reused
// by an unrelated process) does not count as a running studio. "" where unknown.
QString bootId() {
  QFile f(QStringLiteral("/proc/sys/kernel/random/boot_id"));
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QString::fromLatin1(f.readAll().trimmed());
}

// Whether the session that wrote a recovery file may still be running (then its files
// are its own business: another open studio). Errs on "running" only for live pids.
bool writerAlive(qint64 pid, const QString& writerBoot) {
  if (pid <= 0) return false;
  const QString boot = bootId();
  if (!writerBoot.isEmpty() && !boot.isEmpty() && writerBoot != boot) return false;
#ifdef Q_OS_UNIX
  return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
#else
  return false;  // no cheap liveness test: treat the session as gone
#endif
}

// "autosave-<pid>-..." -> pid, 0 when the name does not have that form.
qint64 pidInName(const QString& name) {
  const QString rest = name.startsWith(QLatin1Char('.')) ? name.mid(1) : name;
  if (!rest.startsWith(kPrefix)) return 0;
  return rest.mid(kPrefix.size()).section(QLatin1Char('-'), 0, 0).toLongLong();
}

// Temporary files writeFileAtomic left for `path` (".<name>.tmp-*") when its writer died.
void removeTemporaries(const QString& path) {
  const QFileInfo fi(path);
  QDir dir = fi.dir();
  const QStringList temps = dir.entryList({QLatin1Char('.') + fi.fileName() + QStringLiteral(".tmp-*")},
                                          QDir::Files | QDir::Hidden);
  for (const QString& t : temps) dir.remove(t);
}

QString projectPathFor(const QString& metaPath) {
  const QFileInfo fi(metaPath);
  return fi.dir().filePath(fi.completeBaseName() + QString::fromUtf8(project::kProjectExtension));
}

std::string encodeMeta(const QString& originalPath, const QString& name, const QString& recoveryFile) {
  QJsonObject o;
  o[QStringLiteral("qat_autosave")] = kMetaVersion;
  o[QStringLiteral("pid")] = ownPid();
  o[QStringLiteral("boot_id")] = bootId();
  o[QStringLiteral("original_path")] = originalPath;
  o[QStringLiteral("project_name")] = name;
  o[QStringLiteral("recovery_file")] = recoveryFile;
  o[QStringLiteral("saved_at")] = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
  return QJsonDocument(o).toJson().toStdString();
}

Status writeText(const QString& path, const std::string& text) {
  return writeFileAtomic(path.toStdString(), std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace

Autosaver::Autosaver(ProjectDocument* document, QObject* parent, const QString& recoveryDir)
    : QObject(parent),
      document_(document),
      dir_(recoveryDir.isEmpty() ? defaultRecoveryDir() : recoveryDir),
      timer_(new QTimer(this)) {
  // pid + start time + a counter: unique among running sessions and, with the time,
  // never equal to a crashed session whose pid has been reused.
  static std::atomic<int> counter{0};
  base_ = kPrefix + QStringLiteral("%1-%2-%3").arg(ownPid()).arg(QDateTime::currentMSecsSinceEpoch()).arg(counter++);
  connect(timer_, &QTimer::timeout, this, &Autosaver::onTimer);
  connect(document_, &ProjectDocument::modifiedChanged, this, [this](bool modified) {
    if (modified) {
      markChanged();
    } else {
      ++cleanEpoch_;  // saved or replaced: what was autosaved is no longer unsaved work
      removeSessionFiles();
    }
  });
  // Any of these changes what a snapshot holds; the timer skips writes when none fired.
  connect(document_, &ProjectDocument::modelChanged, this, [this] { markChanged(); });
  connect(document_, &ProjectDocument::weightsChanged, this, [this] { markChanged(); });
  connect(document_, &ProjectDocument::quantizeConfigChanged, this, [this] { markChanged(); });
  connect(document_, &ProjectDocument::dataChanged, this, [this] { markChanged(); });
  connect(document_, &ProjectDocument::trainingSettingsChanged, this, [this] { markChanged(); });
  connect(document_, &ProjectDocument::runAdded, this, [this] { markChanged(); });
  connect(document_, &ProjectDocument::runChanged, this, [this] { markChanged(); });
  connect(document_, &ProjectDocument::runRemoved, this, [this] { markChanged(); });
  connect(document_, &ProjectDocument::projectPathChanged, this, [this] { markChanged(); });
  minutes_ = savedIntervalMinutes();
  setIntervalMs(minutes_ * 60 * 1000);
}

Autosaver::~Autosaver() {
  // A clean exit: the user saved or chose to discard, so nothing is left to recover.
  if (writer_.joinable()) writer_.join();
  currentWrite_ = 0;
  removeSessionFiles();
}

QString Autosaver::defaultRecoveryDir() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/recovery");
}

QString Autosaver::recoveryPath() const {
  return QDir(dir_).filePath(base_ + QString::fromUtf8(project::kProjectExtension));
}

QString Autosaver::metaPath() const { return QDir(dir_).filePath(base_ + QStringLiteral(".json")); }

int Autosaver::savedIntervalMinutes() {
  bool ok = false;
  const int m = appSettings().value(QString::fromUtf8(kSettingsKey), kDefaultMinutes).toInt(&ok);
  return ok && m >= 0 ? std::min(m, kMaxMinutes) : kDefaultMinutes;
}

void Autosaver::setIntervalMinutes(int minutes) {
  minutes_ = std::clamp(minutes, 0, kMaxMinutes);
  appSettings().setValue(QString::fromUtf8(kSettingsKey), minutes_);
  setIntervalMs(minutes_ * 60 * 1000);
}

void Autosaver::setIntervalMs(int ms) {
  if (ms <= 0)
    timer_->stop();
  else
    timer_->start(ms);
}

bool Autosaver::isEnabled() const { return timer_->isActive(); }

void Autosaver::onTimer() {
  if (!document_->hasModel() || !document_->isModified() || generation_ == writtenGeneration_) return;
  if (isWriting())
    writeAgain_ = true;
  else
    startWrite();
}

bool Autosaver::autosaveNow() {
  if (!document_->hasModel() || !document_->isModified()) return false;
  if (isWriting())
    writeAgain_ = true;
  else
    startWrite();
  return true;
}

void Autosaver::startWrite() {
  if (!QDir().mkpath(dir_)) {
    emit autosaved(false, tr("Cannot create the recovery folder %1.").arg(dir_));
    return;
  }
  // The snapshot is the only GUI-thread cost (a model clone and copies of the runs);
  // encoding the HDF5 image and writing it happen on the worker.
  auto snapshot = std::make_unique<project::Project>(document_->snapshot());
  std::string meta = encodeMeta(document_->projectPath(), document_->projectName(), QFileInfo(recoveryPath()).fileName());
  writtenGeneration_ = generation_;
  writeEpoch_ = cleanEpoch_;
  const quint64 id = ++writeCounter_;
  currentWrite_ = id;
  // The sidecar goes first: a project file on disk then always has its sidecar (a crash
  // between the two leaves a sidecar alone, which removeLeftovers deletes).
  writer_ = std::thread([this, id, snapshot = std::move(snapshot), meta = std::move(meta),
                         metaFile = metaPath(), projectFile = recoveryPath().toStdString()] {
    Status s = writeText(metaFile, meta);
    if (s.ok()) s = project::saveProject(*snapshot, projectFile);
    const QString error = s.ok() ? QString() : QString::fromStdString(s.error().message);
    QMetaObject::invokeMethod(this, [this, id, ok = s.ok(), error] { onWriteFinished(id, ok, error); },
                              Qt::QueuedConnection);
  });
}

void Autosaver::onWriteFinished(quint64 id, bool ok, const QString& error) {
  if (id != currentWrite_) return;  // already joined and accounted for (recover)
  currentWrite_ = 0;
  if (writer_.joinable()) writer_.join();  // it has just posted this call: returns at once
  if (ok)
    ++completedWrites_;
  else
    qWarning("autosave failed: %s", qPrintable(error));
  // Saved (or replaced) while the write ran: the file holds work that is no longer
  // unsaved, or older than the saved project; drop it.
  if (writeEpoch_ != cleanEpoch_ || !document_->isModified()) removeSessionFiles();
  emit autosaved(ok, error);
  const bool again = writeAgain_ && document_->isModified();
  writeAgain_ = false;
  if (again && !isWriting()) startWrite();
}

void Autosaver::removeSessionFiles() {
  if (isWriting()) return;  // onWriteFinished checks again
  QFile::remove(recoveryPath());
  QFile::remove(metaPath());
  removeTemporaries(recoveryPath());
  removeTemporaries(metaPath());
  writtenGeneration_ = 0;
}

QList<RecoveryEntry> Autosaver::pendingRecoveries(const QString& recoveryDir) {
  const QDir dir(recoveryDir.isEmpty() ? defaultRecoveryDir() : recoveryDir);
  QList<RecoveryEntry> out;
  for (const QFileInfo& meta : dir.entryInfoList({kPrefix + QStringLiteral("*.json")}, QDir::Files)) {
    QFile f(meta.filePath());
    if (!f.open(QIODevice::ReadOnly)) continue;
    const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    if (o.value(QStringLiteral("qat_autosave")).toInt() != kMetaVersion) continue;
    RecoveryEntry e;
    e.metaPath = meta.filePath();
    e.recoveryPath = projectPathFor(e.metaPath);
    e.pid = o.value(QStringLiteral("pid")).toInteger();
    e.originalPath = o.value(QStringLiteral("original_path")).toString();
    e.projectName = o.value(QStringLiteral("project_name")).toString();
    const QFileInfo project(e.recoveryPath);
    // Only complete files count: writes are atomic, so an unfinished one is a hidden
    // temporary file, never the .qatproj itself.
    if (!project.isFile()) continue;
    if (e.pid == ownPid() || writerAlive(e.pid, o.value(QStringLiteral("boot_id")).toString())) continue;
    e.savedAt = project.lastModified();
    out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const RecoveryEntry& a, const RecoveryEntry& b) { return a.savedAt > b.savedAt; });
  return out;
}

bool Autosaver::recover(const RecoveryEntry& entry, QString* error, QString* warning) {
  if (!document_->openProject(entry.recoveryPath, error, warning)) return false;
  document_->adoptRecoveredProject(entry.originalPath);
  // A write of ours still running would land on the files taken over below.
  if (writer_.joinable()) writer_.join();
  currentWrite_ = 0;
  writeAgain_ = false;
  // Take the entry's files over as this session's: the recovered work stays on disk
  // (and is offered again after another crash) until it is saved or this session ends.
  QString failure;
  if (Status s = writeText(metaPath(), encodeMeta(entry.originalPath, document_->projectName(),
                                                  QFileInfo(recoveryPath()).fileName()));
      !s.ok()) {
    failure = QString::fromStdString(s.error().message);
  } else {
    std::error_code ec;
    std::filesystem::rename(entry.recoveryPath.toStdString(), recoveryPath().toStdString(), ec);
    if (ec) failure = tr("Cannot move %1: %2").arg(entry.recoveryPath, QString::fromStdString(ec.message()));
  }
  if (!failure.isEmpty()) {
    QFile::remove(metaPath());
    if (warning)
      *warning = tr("The project was recovered, but its recovery file could not be kept: %1").arg(failure);
    return true;
  }
  discard(entry);  // the sidecar and any unfinished write's leftovers
  writtenGeneration_ = generation_;
  writeEpoch_ = cleanEpoch_;
  return true;
}

bool Autosaver::discard(const RecoveryEntry& entry) {
  QFile::remove(entry.recoveryPath);
  QFile::remove(entry.metaPath);
  removeTemporaries(entry.recoveryPath);
  removeTemporaries(entry.metaPath);
  return !QFileInfo::exists(entry.recoveryPath) && !QFileInfo::exists(entry.metaPath);
}

int Autosaver::removeLeftovers(const QString& recoveryDir) {
  QDir dir(recoveryDir.isEmpty() ? defaultRecoveryDir() : recoveryDir);
  int removed = 0;
  // The pid in the name is enough here: a leftover of a running session is kept.
  auto dead = [](const QString& name) {
    const qint64 pid = pidInName(name);
    return pid > 0 && pid != ownPid() && !writerAlive(pid, {});
  };
  for (const QString& name : dir.entryList({kPrefix + QStringLiteral("*.json")}, QDir::Files))
    if (dead(name) && !QFileInfo::exists(projectPathFor(dir.filePath(name)))) removed += dir.remove(name);
  for (const QString& name : dir.entryList({QLatin1Char('.') + kPrefix + QStringLiteral("*.tmp-*")},
                                           QDir::Files | QDir::Hidden))
    if (dead(name)) removed += dir.remove(name);
  return removed;
}

QString recoveryQuestionText(const RecoveryEntry& entry) {
  const QString name = entry.projectName.isEmpty() ? Autosaver::tr("an untitled project") : entry.projectName;
  return Autosaver::tr("QAT Studio did not close cleanly. Recover the unsaved work of %1 from %2?")
      .arg(name, QLocale().toString(entry.savedAt.toLocalTime(), QLocale::ShortFormat));
}

RecoveryChoice askRecoveryWithMessageBox(const RecoveryEntry& entry, QWidget* parent) {
  QMessageBox box(QMessageBox::Question, Autosaver::tr("Recover Unsaved Work"), recoveryQuestionText(entry),
                  QMessageBox::NoButton, parent);
  box.setInformativeText(entry.originalPath.isEmpty()
                             ? Autosaver::tr("The project had never been saved.")
                             : Autosaver::tr("Project file: %1\nIt stays as it was until you save.")
                                   .arg(QDir::toNativeSeparators(entry.originalPath)));
  QPushButton* recover = box.addButton(Autosaver::tr("Recover"), QMessageBox::AcceptRole);
  QPushButton* discard = box.addButton(Autosaver::tr("Discard"), QMessageBox::DestructiveRole);
  QPushButton* later = box.addButton(Autosaver::tr("Later"), QMessageBox::RejectRole);
  box.setDefaultButton(recover);
  box.setEscapeButton(later);
  box.exec();
  if (box.clickedButton() == recover) return RecoveryChoice::Recover;
  if (box.clickedButton() == discard) return RecoveryChoice::Discard;
  return RecoveryChoice::Later;
}

bool offerRecovery(Autosaver* autosaver, const RecoveryQuestion& ask, QString* error, QString* warning) {
  Autosaver::removeLeftovers(autosaver->recoveryDir());
  for (const RecoveryEntry& entry : Autosaver::pendingRecoveries(autosaver->recoveryDir())) {
    switch (ask(entry)) {
      case RecoveryChoice::Recover: return autosaver->recover(entry, error, warning);
      case RecoveryChoice::Discard: Autosaver::discard(entry); break;
      case RecoveryChoice::Later: break;
    }
  }
  return false;
}

void offerRecoveryOnStart(Autosaver* autosaver, QWidget* parent) {
  QString error, warning;
  offerRecovery(
      autosaver, [parent](const RecoveryEntry& e) { return askRecoveryWithMessageBox(e, parent); }, &error, &warning);
  if (!error.isEmpty())
    QMessageBox::warning(parent, Autosaver::tr("Recover Unsaved Work"),
                         Autosaver::tr("The unsaved work could not be recovered: %1").arg(error));
  if (!warning.isEmpty()) QMessageBox::information(parent, Autosaver::tr("Recover Unsaved Work"), warning);
}

}  // namespace qat::ui
