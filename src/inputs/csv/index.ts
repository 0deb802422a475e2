export { readCsvRecords, type CsvOptions } from "./read-csv.js";
export { STANDARD_TABLE_TYPES, tableFromFileName } from "./table.js";
export { EVENT_TYPES, isEventType, type EventType } from "./event-type.js";
