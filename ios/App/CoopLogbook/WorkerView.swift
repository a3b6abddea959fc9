// The worker's phone: today and the one right button, the week's hours by type, community
// payback progress, training due, note threads with the consent switch, sync status.

import LogbookKit
import SwiftUI

struct WorkerView: View {
    @StateObject var model: WorkerModel
    @State private var newNote = ""

    var body: some View {
        let s = model.state
        NavigationView {
            List {
                Section(L.text("worker.today.heading")) {
                    Text(L.text(s.today.message)).font(.title3)
                    if s.today.primary.action == .clockIn && s.today.hourTypes.count > 1 {
                        ForEach(s.today.hourTypes, id: \.self) { t in
                            Button(L.text("worker.clockInAs", ["type": L.hourType(t)])) { model.tap(.clockIn, t) }.frame(minHeight: 48)
                        }
                    } else {
                        Button(L.text(s.today.primary.label)) { model.tap(s.today.primary.action) }
                            .buttonStyle(.borderedProminent).frame(maxWidth: .infinity, minHeight: 64)
                    }
                    if let b = s.today.secondary { Button(L.text(b.label)) { model.tap(b.action) }.frame(minHeight: 48) }
                    if let c = s.today.confirmation { Text(L.text(c)).foregroundColor(.green) }
                    if let r = s.today.refusal { Text(L.text(r)).foregroundColor(.red) }
                }
                Section(L.text("worker.week.heading", ["date": s.weekStart])) {
                    if s.week.isEmpty { Text(L.text("worker.week.none")) }
                    ForEach(s.week, id: \.hourType) { h in
                        HStack { Text(L.hourType(h.hourType)); Spacer(); Text(L.hours(h.minutes)).bold() }
                            .accessibilityElement(children: .combine)
                    }
                }
                Section(L.text("worker.tab.cpo")) {
                    if s.cpo.isEmpty { Text(L.text("worker.cpo.none")) }
                    ForEach(s.cpo, id: \.orderId) { c in
                        Text(L.text(c.message)).bold()
                        ProgressView(value: Double(c.doneMinutes), total: Double(max(1, c.doneMinutes + c.leftMinutes)))
                        Text(L.text("cpo.done", ["done": L.hours(c.doneMinutes), "hours": String(c.hoursOrdered)]))
                        Text(L.text("cpo.left", ["left": L.hours(c.leftMinutes), "deadline": c.deadline]))
                    }
                }
                Section(L.text("worker.training.heading")) {
                    if s.trainingDue.isEmpty { Text(L.text("worker.training.none")) }
                    ForEach(s.trainingDue, id: \.recordId) { t in Text(L.text(t.message)).foregroundColor(t.expired ? .red : .primary) }
                }
                // Devices asking to read the notes: who, the code to compare, yes / not now.
                if !s.notesAccess.asking.isEmpty {
                    Section(L.text("notesAccess.heading")) {
                        Text(L.text("notesAccess.explain")).font(.footnote)
                        ForEach(s.notesAccess.asking, id: \.deviceKey) { d in
                            VStack(alignment: .leading, spacing: 8) {
                                Text(L.text(d.who)).bold()
                                Text(L.text(d.check)).font(.title3.monospaced())
                                HStack {
                                    Button(L.text("notesAccess.approve")) { model.approveNotesDevice(d.deviceKey) }
                                        .buttonStyle(.borderedProminent).frame(minHeight: 48)
                                    Button(L.text("notesAccess.notNow")) { model.notNow(d.deviceKey) }
                                        .buttonStyle(.bordered).frame(minHeight: 48)
                                }
                            }
                            .accessibilityElement(children: .contain)
                        }
                    }
                }
                if let outcome = s.notesAccess.outcome { Text(L.text(outcome)).foregroundColor(.accentColor) }
                if !s.notesAccess.approved.isEmpty {
                    Section(L.text("notesAccess.readers")) {
                        ForEach(s.notesAccess.approved, id: \.deviceKey) { d in Text(L.text(d.who) + " · " + L.text(d.check)) }
                    }
                }
                Section(L.text("notes.heading")) {
                    Toggle(L.text("notes.consent"), isOn: Binding(get: { s.consent == true }, set: { model.setConsent($0) }))
                    ForEach(s.notes, id: \.threadId) { t in
                        ForEach(t.entries, id: \.entryId) { e in Text(e.text) }
                    }
                    TextField(L.text("notes.new"), text: $newNote)
                    Button(L.text("notes.send")) { model.write(thread: nil, text: newNote); newNote = "" }
                        .disabled(newNote.trimmingCharacters(in: .whitespaces).isEmpty)
                }
                Section(L.text("sync.heading")) {
                    Text(L.text(s.sync.message))
                    if let w = s.sync.waiting { Text(L.text(w)) }
                    if let p = s.sync.problem { Text(L.text(p)).foregroundColor(.red) }
                    Button(L.text("sync.now")) { model.sync() }.frame(minHeight: 48)
                }
            }
            .navigationTitle(L.text("worker.title", ["name": s.name]))
            .refreshable { model.sync() }
        }
    }
}
