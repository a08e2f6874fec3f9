#pragma once
// Autosave and crash recovery.
//
// While the document has unsaved changes, an Autosaver writes a snapshot of it every few
// minutes to this session's recovery file, <recovery dir>/autosave-<pid>-<ms>-<n>.qatproj,
// next to a JSON sidecar (.json) that says which project file the work belongs to ("" for
// a project never saved), which process wrote it and when. The snapshot is taken on the
// GUI thread (ProjectDocument::snapshot); the HDF5 encoding and the file write run on a
// worker thread, one write at a time, so the GUI never waits for the disk. Writes are
// atomic (project::saveProject: temporary file + rename), so a crash in the middle of an
// autosave leaves the previous recovery file whole and never touches the user's project.
//
// A normal save (the document becomes unmodified) and a clean exit (the Autosaver's
// destructor) delete the session's files. Files left behind by a session that did not
// exit cleanly are listed by pendingRecoveries() on the next start; offerRecovery() asks
// the user whether to recover, discard or keep them for later.
#include <QDateTime>
#include <QList>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <thread>

class QTimer;
class QWidget;

namespace qat::ui {

class ProjectDocument;

// A recovery file left by another session.
struct RecoveryEntry {
  QString recoveryPath;  // the autosaved .qatproj (always complete: written atomically)
  QString metaPath;      // its JSON sidecar
  QString originalPath;  // the project file the work belongs to, "" when never saved
  QString projectName;   // the name the title bar showed
  QDateTime savedAt;     // when the recovery file was written (its modification time)
  qint64 pid = 0;        // the process that wrote it
};

class Autosaver : public QObject {
  Q_OBJECT
 public:
  static constexpr int kDefaultMinutes = 3;
  static constexpr int kMaxMinutes = 24 * 60;
  static constexpr const char* kSettingsKey = "autosave/minutes";  // QSettings; 0 = off

  // `recoveryDir` "" = defaultRecoveryDir(). The interval comes from QSettings.
  explicit Autosaver(ProjectDocument* document, QObject* parent = nullptr, const QString& recoveryDir = {});
  // A clean exit: waits for a write in progress, then deletes this session's files.
  ~Autosaver() override;

  // QStandardPaths::AppDataLocation + "/recovery".
  static QString defaultRecoveryDir();
  QString recoveryDir() const { return dir_; }
  // This session's files (they exist only while there is unsaved work that was autosaved).
  QString recoveryPath() const;
  QString metaPath() const;

  // Minutes between autosaves, persisted in QSettings; 0 turns autosave off.
  static int savedIntervalMinutes();
  int intervalMinutes() const { return minutes_; }
  void setIntervalMinutes(int minutes);
  // Not persisted: sub-minute intervals for tests and the crash-test helper; 0 = off.
  void setIntervalMs(int ms);
  bool isEnabled() const;  // the timer runs

  // Starts a write now when the document has unsaved changes, even if nothing changed
  // since the last autosave; while a write runs, another is queued behind it. False when
  // there is nothing to save.
  bool autosaveNow();
  bool isWriting() const { return writer_.joinable(); }
  int completedWrites() const { return completedWrites_; }

  // Recovery files of sessions that did not exit cleanly, newest first. Skips this
  // process's sessions and files whose writer is still running (another open studio).
  static QList<RecoveryEntry> pendingRecoveries(const QString& recoveryDir = {});
  // Opens the entry in this Autosaver's document as the project at entry.originalPath,
  // modified (so Save writes the original, not the recovery file), and takes the entry's
  // files over as this session's, so the work stays recoverable until it is saved. On
  // error the document is unchanged and `error` says why.
  bool recover(const RecoveryEntry& entry, QString* error = nullptr, QString* warning = nullptr);
  // Deletes the entry's files (and the temporary file of a write it did not finish).
  static bool discard(const RecoveryEntry& entry);
  // Deletes what crashed sessions left that holds nothing recoverable: a sidecar without
  // its project file, temporary files of unfinished writes. Returns the number removed.
  static int removeLeftovers(const QString& recoveryDir = {});

 signals:
  // After each write; ok = false: `error` says why (the next tick tries again).
  void autosaved(bool ok, const QString& error);

 private:
  void onTimer();
  void startWrite();
  void onWriteFinished(quint64 id, bool ok, const QString& error);
  void removeSessionFiles();
  void markChanged() { ++generation_; }

  ProjectDocument* document_;
  QString dir_;
  QString base_;  // file name without extension, unique per session
  QTimer* timer_;  // child QObject
  int minutes_ = kDefaultMinutes;
  std::thread writer_;  // the write in progress; joined when it reports back
  bool writeAgain_ = false;       // a write was asked for while one ran
  quint64 generation_ = 1;        // bumped by every document change
  quint64 writtenGeneration_ = 0;  // what the last started write holds
  quint64 cleanEpoch_ = 0;         // bumped when the document becomes unmodified (saved)
  quint64 writeEpoch_ = 0;         // cleanEpoch_ when the running write started
  quint64 writeCounter_ = 0;
  quint64 currentWrite_ = 0;  // id of the write whose report is awaited, 0: none
  int completedWrites_ = 0;
};

// What the user answered to "Recover the unsaved work of ...?".
enum class RecoveryChoice { Recover, Discard, Later };
using RecoveryQuestion = std::function<RecoveryChoice(const RecoveryEntry&)>;

// "QAT Studio did not close cleanly. Recover the unsaved work of <name> from <time>?"
QString recoveryQuestionText(const RecoveryEntry& entry);
// The question as a message box with Recover / Discard / Later.
RecoveryChoice askRecoveryWithMessageBox(const RecoveryEntry& entry, QWidget* parent);

// Asks about each pending recovery of the autosaver's directory, newest first. Recover
// opens it (and stops asking: the document holds one project), Discard deletes it, Later
// leaves it for the next start. Returns whether a project was recovered; a failed
// recovery returns false with `error` set and leaves the files.
bool offerRecovery(Autosaver* autosaver, const RecoveryQuestion& ask, QString* error = nullptr,
                   QString* warning = nullptr);
// The studio's start-up hook: offerRecovery with message boxes; errors and data warnings
// are shown to the user.
void offerRecoveryOnStart(Autosaver* autosaver, QWidget* parent);

}  // namespace qat::ui
